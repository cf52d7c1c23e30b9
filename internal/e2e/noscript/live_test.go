package noscript

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
	"github.com/rtmessenger/rtmessenger/internal/poll"
)

// frame is JavaScript for the live frame's document (run by the test
// through DevTools: the page itself runs none).
const frame = `document.querySelector('iframe.live-frame').contentDocument`

// showLimit bounds the wait for a message to show. Generous: it only
// decides how soon a broken test fails on a busy machine; the product's
// goal (2 s) is measured and logged.
const showLimit = 30 * time.Second

// poster is a person posting through plain form posts over HTTP, as a
// browser without script does: another user, timed exactly.
type poster struct {
	t    *testing.T
	base string
	c    *http.Client
}

func signup(t *testing.T, s *e2e.Server, name string) *poster {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	p := &poster{t: t, base: s.URL, c: &http.Client{Jar: jar, Transport: tr}}
	p.post("/signup", url.Values{"username": {name}, "password": {"password-" + name}})
	return p
}

// post sends a form and fails the test unless it ends on a page.
func (p *poster) post(path string, form url.Values) {
	p.t.Helper()
	resp, err := p.c.PostForm(p.base+path, form)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("POST %s: %s", path, resp.Status)
	}
}

// waitShown polls the frame until it shows text and returns how long that
// took from since.
func waitShown(t *testing.T, tab e2e.Tab, text string, since time.Time) time.Duration {
	t.Helper()
	js := frame + `.body.innerText.includes(` + fmt.Sprintf("%q", text) + `)`
	shown := poll.Holds(showLimit-time.Since(since), func() bool {
		ctx, cancel := context.WithTimeout(tab.Ctx, showLimit)
		defer cancel()
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		return err == nil && shown
	})
	if !shown {
		t.Fatalf("%q not in the live frame after %v\n%s", text, showLimit, tab.Describe())
	}
	return time.Since(since)
}

// With JavaScript off, a message another person posts shows in the room's
// live frame without a reload, the newest in view; a post of one's own
// reloads the page, whose new frame is live again.
func TestNewMessagesShowLiveWithoutJavaScript(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	cleo := e2e.OpenTab(t, browser, s)
	problems := browsertest.WatchConsole(cleo.Ctx)
	if _, err := chromedp.Call(cleo.Ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	cleo.SignupForm("cleo")
	cleo.Do(
		chromedp.SendKeys(chromedp.ID("room-name"), "quiet"),
		chromedp.Click(chromedp.CSS(`.create-room button`)),
		chromedp.WaitVisible(chromedp.ID("composer")),
	)
	room := cleo.Eval(`location.pathname`)
	ben := signup(t, s, "ben")
	ben.post(room+"/join", nil)
	cleo.WaitFor("the live frame", frame+`.body.innerText.includes('New messages show here')`)
	cleo.Eval(`window.mark = 'page'; ` + frame + `.defaultView.mark = 'frame'`) // gone if either reloads

	var took []time.Duration
	for i := range 12 { // more than the frame holds: the newest must stay in view
		text := fmt.Sprintf("live without script %d", i)
		start := time.Now()
		ben.post(room+"/messages", url.Values{"body": {text}})
		took = append(took, waitShown(t, cleo, text, start))
	}
	slices.Sort(took)
	t.Logf("post to shown in the frame, %d messages: min %v, median %v, max %v (goal: 2 s)",
		len(took), took[0].Round(time.Millisecond), took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	if got := cleo.Eval(`window.mark + ' ' + ` + frame + `.defaultView.mark`); got != "page frame" {
		t.Fatalf("the page or its frame reloaded: %q", got)
	}
	newest := cleo.Eval(`(() => { const d = ` + frame + `; const li = [...d.querySelectorAll('li')].pop();
		const r = li.getBoundingClientRect(); return li.textContent.includes('script 11') && r.top >= 0 && r.bottom <= d.documentElement.clientHeight ? 'in view' : 'top ' + r.top + ', bottom ' + r.bottom + ', frame ' + d.documentElement.clientHeight })()`)
	if newest != "in view" {
		t.Errorf("the newest message is not in the frame's view: %s", newest)
	}
	browsertest.Screenshot(t, cleo.Ctx, "noscript-live")

	// Her own post reloads the page (a plain form post and redirect): the
	// log has it, and the new frame is live from there on.
	cleo.Do(chromedp.SendKeys(chromedp.ID("body"), "my own, by form"))
	cleo.Submit(`#composer button`)
	if log := cleo.Eval(`document.querySelector('ol.log').innerText`); !strings.Contains(log, "my own, by form") || !strings.Contains(log, "script 11") {
		t.Fatalf("log after posting: %q", log)
	}
	cleo.WaitFor("the new live frame", frame+`.body.innerText.includes('New messages show here')`)
	start := time.Now()
	ben.post(room+"/messages", url.Values{"body": {"after her post"}})
	waitShown(t, cleo, "after her post", start)
	if frameText := cleo.Eval(frame + `.body.innerText`); strings.Contains(frameText, "script 11") || strings.Contains(frameText, "my own") {
		t.Errorf("the new frame repeats what the page shows: %q", frameText)
	}
	problems.Check(t, "cleo")
}

// w3m shows no frames and renders a document only once it has ended, so
// it cannot show the live log: its room page says to reload instead, and
// loading it does not wait on the stream.
func TestTextBrowserIsToldToReload(t *testing.T) {
	s := e2e.Start(t)
	wes := e2e.OpenNoJS(t, s)
	wes.Submit("/signup", "Sign up", map[string]string{"username": "wes", "password": "password-wes"})
	page := wes.Submit("/rooms", "Create room", map[string]string{"name": "plain"})
	if !strings.Contains(page, "Reload the page to see new messages.") || strings.Contains(page, "Show new messages") {
		t.Fatalf("w3m's room page:\n%s", page)
	}
}

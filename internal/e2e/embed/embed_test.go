// Package embed holds browser tests of the chat widget on other sites'
// pages, with third-party cookies blocked as browsers that block them do.
package embed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }

// host is another site's web server: its pages embed the widget, and it
// signs a fresh token for its user on every page load, as a real site's
// server would. Its pages are reached as http://localhost:PORT while the
// chat is at http://127.0.0.1:PORT: another site (ports do not count).
type host struct {
	URL string

	mu     sync.Mutex
	chat   string
	site   int64
	room   int64
	secret string
}

func startHost(t *testing.T) *host {
	t.Helper()
	h := &host{}
	srv := httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(srv.Close)
	h.URL = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	return h
}

func (h *host) configure(chatURL string, site, room int64, secret string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.chat, h.site, h.room, h.secret = chatURL, site, room, secret
}

func (h *host) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	chatURL, site, room, secret := h.chat, h.site, h.room, h.secret
	h.mu.Unlock()
	token := ""
	if r.URL.Path == "/" {
		nonce := make([]byte, 16)
		rand.Read(nonce)
		now := time.Now().Unix()
		var err error
		token, err = chat.SignEmbedToken([]byte(secret), chat.EmbedClaims{Site: site, Sub: "visitor-7", Name: "Dana",
			Rooms: []int64{room}, Iat: now, Exp: now + 300, Nonce: hex.EncodeToString(nonce)})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Help desk</title></head>
<body><h1>Help desk</h1><p>Ask us anything.</p>
<script src="%s/static/embed.js" data-site="%d" data-room="%d" data-token="%s" async></script>
</body></html>`, chatURL, site, room, token)
}

// setUp signs up the admin in the app, makes a room, registers host's
// site through the admin pages (guests allowed), and puts 50 messages in
// the room. It returns the admin's tab, on the room.
func setUp(t *testing.T, browser context.Context, s *e2e.Server, h *host) (e2e.Tab, int64) {
	t.Helper()
	admin := e2e.OpenTab(t, browser, s)
	admin.Signup("admin")
	admin.Do(chromedp.SetValue(chromedp.ID("room-name"), "help"))
	admin.Submit(`.create-room button`)
	room, err := strconv.ParseInt(strings.TrimPrefix(admin.Eval(`location.pathname`), "/rooms/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	admin.Do(
		chromedp.Navigate(s.URL+"/admin/sites"),
		chromedp.SetValue(chromedp.ID("origin"), h.URL),
		chromedp.Click(chromedp.CSS(`input[name=rooms][value="`+strconv.FormatInt(room, 10)+`"]`)),
		chromedp.Click(chromedp.CSS(`input[name=guests]`)),
	)
	admin.Submit(`form[action="/admin/sites"] button[type=submit]`)
	secret := admin.Eval(`document.getElementById('site-secret').textContent`)
	site, err := strconv.ParseInt(admin.Eval(`document.querySelector('form[action^="/admin/sites/"]').getAttribute('action').split('/')[3]`), 10, 64)
	if err != nil || secret == "" {
		t.Fatalf("registering the site: %v\n%s", err, admin.Describe())
	}
	h.configure(s.URL, site, room, secret)
	e2e.PostDirectly(t, s.DB, "admin", "help", 50, "earlier")
	admin.Do(chromedp.Navigate(s.URL + "/rooms/" + strconv.FormatInt(room, 10)))
	admin.WaitLive()
	return admin, room
}

// frame finds the widget's frame in tab, a separate target since it is
// another site's document, and drives it as a tab of its own.
func frame(t *testing.T, tab e2e.Tab) e2e.Tab {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		targets, err := chromedp.Targets(tab.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range targets {
			if ti.Type == "iframe" && strings.Contains(ti.URL, "/embed/rooms/") {
				ctx, cancel := chromedp.NewContext(tab.Ctx, chromedp.WithTargetID(ti.TargetID))
				t.Cleanup(cancel)
				return e2e.Tab{T: t, Ctx: ctx, URL: tab.URL}
			}
		}
		time.Sleep(50 * time.Millisecond) // the polling interval
	}
	t.Fatalf("no widget frame appeared\n%s", tab.Describe())
	return e2e.Tab{}
}

// A signed-in user of another site chats in the widget on that site's
// page, with third-party cookies blocked: what the app posts appears live
// in the frame, what the frame posts appears live in the app, and a server
// restart loses nothing.
func TestWidgetOnAnotherSite(t *testing.T) {
	browser := browsertest.Start(t, "test-third-party-cookie-phaseout")
	s := e2e.Start(t)
	h := startHost(t)
	admin, _ := setUp(t, browser, s, h)

	visitor := e2e.OpenTab(t, browser, s)
	hostProblems := browsertest.WatchConsole(visitor.Ctx)
	visitor.Do(chromedp.Navigate(h.URL + "/"))
	w := frame(t, visitor)
	w.WaitFor("the widget live", `document.documentElement.dataset.stream === 'live' && document.getElementById('composer') !== null`)
	frameProblems := browsertest.WatchConsole(w.Ctx)
	if got := w.Eval(`String(document.querySelectorAll('ol.log li').length)`); got != "50" {
		t.Errorf("the widget shows %s messages, want the last 50", got)
	}
	bytes := w.Eval(`String([performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')].reduce((n, e) => n + e.transferSize, 0))`)
	t.Logf("the widget's first load with 50 messages: %s bytes on the wire", bytes)
	if n, _ := strconv.Atoi(bytes); n == 0 || n > 20<<10 {
		t.Errorf("the widget's first load is %s bytes; the budget is 20 KB", bytes)
	}
	browsertest.Screenshot(t, visitor.Ctx, "widget-on-host")
	w.Eval(`window.notReloaded = 'yes'`)

	admin.Send("hello from the app")
	w.WaitFor("the app's message in the widget", `document.querySelector('ol.log').innerText.includes('hello from the app')`)
	w.Send("hello from the host site")
	admin.WaitFor("the widget's message in the app", e2e.LogText+`.includes('hello from the host site')`)
	label := strings.TrimPrefix(h.URL, "http://")
	if got := admin.Eval(`[...document.querySelectorAll('ol.log li')].pop().querySelector('.meta').textContent`); !strings.Contains(got, "Dana "+label) {
		t.Errorf("the app shows the widget's message as %q, want Dana marked %s", got, label)
	}

	// Down and up again: the frame reconnects by itself and gets what it
	// missed, without a reload.
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	e2e.PostDirectly(t, s.DB, "admin", "help", 3, "while down")
	s.Restart()
	w.WaitFor("what was posted while the server was down", `document.querySelector('ol.log').innerText.includes('while down 2')`)
	admin.WaitLive()
	admin.Send("after the restart")
	w.WaitFor("a live message after the restart", `document.querySelector('ol.log').innerText.includes('after the restart')`)
	if w.Eval(`String(window.notReloaded)`) != "yes" {
		t.Error("the widget reloaded instead of resuming")
	}
	says := w.Eval(`[...document.querySelectorAll('ol.log li:not(.system) .body')].slice(-6).map(e => e.textContent).join('|')`)
	if says != "hello from the app|hello from the host site|while down 0|while down 1|while down 2|after the restart" {
		t.Errorf("the widget's log ends %q", says)
	}
	hostProblems.Check(t, "the host page")
	frameProblems.Check(t, "the widget", "ERR_CONNECTION_REFUSED") // the restart
}

// A host origin that is not registered gets no widget: the browser refuses
// the frame, as the frame-ancestors policy tells it to.
func TestUnregisteredHostIsRefused(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	h := startHost(t)
	setUp(t, browser, s, h)
	stranger := startHost(t) // same site, another origin: not registered
	h.mu.Lock()
	stranger.configure(h.chat, h.site, h.room, h.secret)
	h.mu.Unlock()

	visitor := e2e.OpenTab(t, browser, s)
	problems := browsertest.WatchConsole(visitor.Ctx)
	visitor.Do(chromedp.Navigate(stranger.URL + "/"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		msgs := problems.Drain()
		if slicesContain(msgs, "frame-ancestors") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the browser did not refuse the frame; console: %q", msgs)
		}
		time.Sleep(50 * time.Millisecond) // the polling interval
	}
}

func slicesContain(msgs []string, sub string) bool {
	for _, m := range msgs {
		if strings.Contains(m, sub) {
			return true
		}
	}
	return false
}

// A guest reads live, has no composer, and a post forged from inside the
// frame is refused.
func TestGuestWidget(t *testing.T) {
	browser := browsertest.Start(t, "test-third-party-cookie-phaseout")
	s := e2e.Start(t)
	h := startHost(t)
	admin, room := setUp(t, browser, s, h)

	visitor := e2e.OpenTab(t, browser, s)
	visitor.Do(chromedp.Navigate(h.URL + "/guest"))
	w := frame(t, visitor)
	w.WaitFor("the guest widget live", `document.documentElement.dataset.stream === 'live'`)
	if w.Eval(`String(document.getElementById('composer') === null && document.body.innerText.includes('reading as a guest'))`) != "true" {
		t.Fatalf("the guest has a composer, or no note\n%s", w.Describe())
	}
	admin.Send("for everyone reading")
	w.WaitFor("the message in the guest's widget", `document.querySelector('ol.log').innerText.includes('for everyone reading')`)

	status, err := chromedp.Run(w.Ctx, chromedp.Evaluate[string](`fetch('/embed/rooms/`+strconv.FormatInt(room, 10)+`/messages', {method: 'POST',
		headers: {'Content-Type': 'application/x-www-form-urlencoded', 'HX-Request': 'true'},
		body: 'body=forged&site=`+strconv.FormatInt(h.site, 10)+`'}).then(r => String(r.status))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != "401" {
		t.Fatalf("a guest's forged post: %s, want 401", status)
	}
	admin.Send("after the forgery")
	w.WaitFor("the next message", `document.querySelector('ol.log').innerText.includes('after the forgery')`)
	if strings.Contains(admin.Eval(e2e.LogText), "forged") {
		t.Fatal("the forged post reached the room")
	}
}

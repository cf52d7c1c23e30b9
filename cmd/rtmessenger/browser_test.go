package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/store"
)

// tab wraps a chromedp tab with the few steps the tests repeat.
type tab struct {
	t   *testing.T
	ctx context.Context
	url string
}

func (tb tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%v\n%s", err, tb.describe())
	}
}

// describe tells where the tab is, for failure messages.
func (tb tab) describe() string {
	where, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`location.href + '\n' + document.body.innerText.slice(0, 600)`))
	if err != nil {
		return "(page unreadable: " + err.Error() + ")"
	}
	return "page: " + where
}

// submit clicks a button that posts a plain form and waits for the page
// the server answers with.
func (tb tab) submit(button string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button))); err != nil {
		tb.t.Fatalf("submit %s: %v", button, err)
	}
}

func (tb tab) eval(js string) string {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		tb.t.Fatalf("eval %s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds. Errors while the
// page navigates count as "not yet".
func (tb tab) waitFor(what, js string) {
	tb.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool]("Boolean("+js+")"))
		if err == nil && ok {
			return
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	tb.t.Fatalf("waiting for %s: timed out (last error: %v)", what, lastErr)
}

// signup creates an account through the form and waits for the stream.
func (tb tab) signup(name string) {
	tb.t.Helper()
	tb.signupForm(name)
	tb.waitLive()
}

func (tb tab) signupForm(name string) {
	tb.t.Helper()
	tb.do(
		chromedp.Navigate(tb.url+"/signup"),
		chromedp.SendKeys(chromedp.ID("username"), name),
		chromedp.SendKeys(chromedp.ID("password"), "password-"+name),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("create-h")),
	)
}

// waitLive waits until the page's event stream is connected.
func (tb tab) waitLive() {
	tb.t.Helper()
	tb.waitFor("a live stream", `document.documentElement.dataset.stream === 'live'`)
}

// chromedpNewTab opens another tab in the same browser profile.
func chromedpNewTab(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// logText is the visible text of the open room's message log.
const logText = `document.querySelector('ol.log').innerText`

func TestTwoBrowsersChatLive(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "browser.db"))
	browser := browsertest.Start(t)
	anna := tab{t, browsertest.User(t, browser), s.url}
	ben := tab{t, browsertest.User(t, browser), s.url}
	annaProblems, benProblems := browsertest.WatchConsole(anna.ctx), browsertest.WatchConsole(ben.ctx)

	anna.signup("anna")
	anna.do(
		chromedp.SendKeys(chromedp.ID("room-name"), "lobby"),
		chromedp.SendKeys(chromedp.ID("room-topic"), "say hi"),
		chromedp.Click(chromedp.CSS(`.create-room button`)),
		chromedp.WaitVisible(chromedp.ID("composer")),
	)
	room := anna.eval(`location.pathname`)

	ben.signup("ben")
	ben.do(
		chromedp.Navigate(s.url+room),
		chromedp.Click(chromedp.CSS(`.join-invite button`)),
		chromedp.WaitVisible(chromedp.ID("composer")),
	)
	// Anna's open page learns of Ben's arrival over her stream.
	anna.waitFor("ben's join line", logText+`.includes('ben joined the room')`)
	anna.waitFor("the member count", `document.querySelector('.room-head').innerText.includes('2 members')`)
	// Ben has the room open in a second tab too.
	benTab2 := tab{t, chromedpNewTab(t, ben.ctx), s.url}
	benTab2.do(chromedp.Navigate(s.url+room), chromedp.WaitVisible(chromedp.ID("composer")))

	// A marker that a reload would wipe out: delivery must be live.
	ben.eval(`window.notReloaded = 'yes'`)
	anna.do(
		chromedp.SendKeys(chromedp.ID("body"), "hello ben <b>not bold</b>"),
		chromedp.SendKeys(chromedp.ID("body"), "\n"), // Enter sends
	)
	ben.waitFor("anna's message", logText+`.includes('hello ben <b>not bold</b>')`)
	benTab2.waitFor("anna's message in ben's second tab", logText+`.includes('hello ben <b>not bold</b>')`)
	anna.waitFor("a fresh composer", `document.querySelector('#body').value === '' && `+logText+`.includes('hello ben')`)
	if ben.eval(`window.notReloaded`) != "yes" {
		t.Fatal("ben's page reloaded; the message must arrive live")
	}
	if n := ben.eval(`String(document.querySelectorAll('ol.log b').length)`); n != "0" {
		t.Fatalf("markup in a message became %s element(s)", n)
	}

	// Ben answers with the button; Anna sees it; each message shows once, in order.
	ben.do(
		chromedp.SendKeys(chromedp.ID("body"), "hi anna"),
		chromedp.Click(chromedp.CSS(`#composer button`)),
	)
	anna.waitFor("ben's reply", logText+`.includes('hi anna')`)
	for _, tb := range []tab{anna, ben} {
		got := tb.eval(`[...document.querySelectorAll('ol.log li .body')].map(e => e.textContent).join('|')`)
		if got != "hello ben <b>not bold</b>|hi anna" {
			t.Errorf("log reads %q", got)
		}
		if time := tb.eval(`document.querySelector('ol.log li time').textContent`); strings.Contains(time, "UTC") {
			t.Errorf("times were not shown in local time: %q", time)
		}
	}
	// A message in a room that is not on screen marks it in the sidebar.
	other := anna.eval(`location.pathname`)
	anna.do(
		chromedp.Navigate(s.url+"/rooms"),
		chromedp.SendKeys(chromedp.ID("room-name"), "side"),
		chromedp.Click(chromedp.CSS(`.create-room button`)),
		chromedp.WaitVisible(chromedp.ID("composer")),
	)
	ben.do(chromedp.SendKeys(chromedp.ID("body"), "psst\n"))
	anna.waitFor("an unread mark", `document.querySelector('.sidebar a[href="`+other+`"]').classList.contains('has-unread')`)

	browsertest.Screenshot(t, anna.ctx, "room-anna")
	browsertest.Screenshot(t, ben.ctx, "room-ben")
	annaProblems.Check(t, "anna")
	benProblems.Check(t, "ben")
}

// With script off, every step is a plain form post and redirect.
func TestChatWorksWithoutJavaScript(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "nojs.db"))
	browser := browsertest.Start(t)
	cleo := tab{t, browsertest.User(t, browser), s.url}
	if _, err := chromedp.Call(cleo.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	cleo.signupForm("cleo")
	cleo.do(
		chromedp.SendKeys(chromedp.ID("room-name"), "quiet"),
		chromedp.Click(chromedp.CSS(`.create-room button`)),
		chromedp.WaitVisible(chromedp.ID("composer")),
	)
	for i := range 2 {
		cleo.do(chromedp.SendKeys(chromedp.ID("body"), fmt.Sprint("no script needed ", i)))
		cleo.submit(`#composer button`)
	}
	text, err := chromedp.Run(cleo.ctx, chromedp.Text(chromedp.CSS("ol.log")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "no script needed 0") || !strings.Contains(text, "no script needed 1") {
		t.Fatalf("log after two posts: %q", text)
	}
	browsertest.Screenshot(t, cleo.ctx, "room-nojs")
	// No live updates without script: the page says so instead of offering
	// a choice of transports.
	cleo.do(chromedp.WaitVisible(chromedp.CSS(".live-off")), chromedp.WaitNotVisible(chromedp.CSS("form.transport")))
	cleo.submit(`.room-head button`) // leave
	if text, _ := chromedp.Run(cleo.ctx, chromedp.Text(chromedp.ID("others-h"))); text == "" {
		t.Fatal("rooms page missing after leaving")
	}
}

// A page open across a server restart resumes by itself: a small gap is
// replayed into the page, a large one makes the page reload.
func TestBrowserResumesAcrossRestart(t *testing.T) {
	for _, transport := range []string{"sse", "ws"} {
		t.Run(transport, func(t *testing.T) { testResumeAcrossRestart(t, transport) })
	}
}

func testResumeAcrossRestart(t *testing.T, transport string) {
	db := filepath.Join(t.TempDir(), "restart.db")
	s := startServer(t, db, "-replay-limit", "5")
	addr := strings.TrimPrefix(s.url, "http://")
	browser := browsertest.Start(t)
	dana := tab{t, browsertest.User(t, browser), s.url}
	dana.signup("dana")
	dana.do(chromedp.SetValue(chromedp.ID("room-name"), "ops"))
	dana.submit(`.create-room button`)
	if transport == "ws" {
		dana.submit(`.transport button`)
	}
	dana.waitLive()
	dana.eval(`window.notReloaded = 'yes'`)
	// htmx's own backoff grows to 60 s: after a long outage a page would
	// stay offline up to a minute after the server is back.
	if got := dana.eval(`htmx.config.sse.reconnectMaxDelay + ' ' + htmx.config.ws.reconnectMaxDelay`); got != "10000 10000" {
		t.Fatalf("reconnect backoff caps %s, want 10000 ms for both transports", got)
	}

	restartWith := func(posts int, prefix string) {
		t.Helper()
		if err := s.stop(); err != nil {
			t.Fatal(err)
		}
		dana.waitFor("the reconnecting notice", `!document.getElementById('notice').hidden`)
		postDirectly(t, db, "dana", "ops", posts, prefix)
		s = startServer(t, db, "-replay-limit", "5", "-addr", addr)
	}

	restartWith(3, "small gap")
	dana.waitFor("the replayed messages", logText+`.includes('small gap 2')`)
	dana.waitFor("the notice to go", `document.getElementById('notice').hidden`)
	if dana.eval(`String(window.notReloaded)`) != "yes" {
		t.Fatal("a gap within the replay limit must not reload the page")
	}

	restartWith(8, "large gap")
	dana.waitFor("a reload with every message", `window.notReloaded === undefined && `+logText+`.includes('large gap 7')`)
	if n := dana.eval(`String(document.querySelectorAll('ol.log li').length)`); n != "12" {
		t.Fatalf("log has %s lines after reload, want 12 (join + 3 + 8)", n)
	}
}

// postDirectly writes messages while no server runs, as if other nodes had.
func postDirectly(t *testing.T, db, user, room string, n int, prefix string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, _, err := st.UserByName(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	joined, _, err := st.Rooms(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range joined {
		if r.Name != room {
			continue
		}
		for i := range n {
			if _, err := st.PostMessage(ctx, r.ID, u, fmt.Sprint(prefix, " ", i), ""); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	t.Fatalf("%s is not in %s", user, room)
}

func TestTooManyTabsShowANotice(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "tabs.db"), "-max-tabs", "1", "-log-level", "debug")
	browser := browsertest.Start(t)
	eve := tab{t, browsertest.User(t, browser), s.url}
	eve.signup("eve")
	second := tab{t, chromedpNewTab(t, eve.ctx), s.url}
	second.do(chromedp.Navigate(s.url + "/rooms"))
	second.waitFor("the too-many-tabs notice", `document.getElementById('notice').innerText.includes('other tabs open')`)
	second.waitFor("the stream marked off", `document.documentElement.dataset.stream === 'off'`)
	if eve.eval(`String(document.getElementById('notice').hidden)`) != "true" {
		t.Fatal("the first tab must keep its stream and show no notice")
	}
}

// Browsers allow six connections per site. Every page holds a stream, so a
// page that is left must let go of its stream at once, or after a few clicks
// new pages stall. Go back and forth well past six.
func TestManyPageChangesKeepWorking(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "nav.db"))
	browser := browsertest.Start(t)
	fay := tab{t, browsertest.User(t, browser), s.url}
	fay.signup("fay")
	for _, name := range []string{"north", "south"} {
		fay.do(chromedp.Navigate(s.url+"/rooms"), chromedp.SetValue(chromedp.ID("room-name"), name))
		fay.submit(`.create-room button`)
		fay.waitLive()
	}
	for i := range 12 {
		room := []string{"north", "south"}[i%2]
		fay.submit(`.sidebar a[href="` + fay.roomPath(room) + `"]`) // a link click navigates like a submit
		fay.waitLive()
		if got := fay.eval(`document.querySelector('h1').textContent`); got != "# "+room {
			t.Fatalf("step %d: on %q, want %q", i, got, room)
		}
	}
}

// roomPath finds a room's address in the sidebar.
func (tb tab) roomPath(name string) string {
	tb.t.Helper()
	return tb.eval(`[...document.querySelectorAll('.sidebar a')].find(a => a.textContent.startsWith('# ` + name + `')).getAttribute('href')`)
}

// One person on Server-Sent Events, one on the WebSocket: they chat both
// ways, live, and the socket page posts over its socket.
func TestSSEAndWebSocketUsersChat(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "ws.db"))
	browser := browsertest.Start(t)
	sam := tab{t, browsertest.User(t, browser), s.url} // SSE
	wes := tab{t, browsertest.User(t, browser), s.url} // WebSocket
	samProblems, wesProblems := browsertest.WatchConsole(sam.ctx), browsertest.WatchConsole(wes.ctx)
	browsertest.Guard(t, wes.ctx)

	sam.signup("sam")
	sam.do(chromedp.SetValue(chromedp.ID("room-name"), "both"))
	sam.submit(`.create-room button`)
	sam.waitLive()
	room := sam.eval(`location.pathname`)

	wes.signup("wes")
	wes.do(chromedp.Navigate(s.url + room))
	wes.submit(`.join-invite button`)
	wes.submit(`.transport button`) // switch this account to the WebSocket
	if wes.eval(`document.querySelector('#socket') ? 'socket' : 'none'`) != "socket" {
		t.Fatalf("the page did not switch to the WebSocket: %s", wes.describe())
	}
	wes.waitLive()
	sam.waitFor("wes's join line", logText+`.includes('wes joined the room')`)

	wes.do(chromedp.SendKeys(chromedp.ID("body"), "hello over a socket\n"))
	sam.waitFor("the socket user's message", logText+`.includes('hello over a socket')`)
	wes.waitFor("a fresh composer", `document.querySelector('#body').value === '' && `+logText+`.includes('hello over a socket')`)

	sam.do(chromedp.SendKeys(chromedp.ID("body"), "hello back over SSE\n"))
	wes.waitFor("the SSE user's message", logText+`.includes('hello back over SSE')`)
	sam.waitFor("sam's own message", logText+`.includes('hello back over SSE')`) // it comes back over sam's stream
	for _, tb := range []tab{sam, wes} {
		if got := tb.eval(`[...document.querySelectorAll('ol.log li .body')].map(e => e.textContent).join('|')`); got != "hello over a socket|hello back over SSE" {
			t.Errorf("log reads %q", got)
		}
	}
	browsertest.CheckGuard(t, wes.ctx, "socket page")
	browsertest.Screenshot(t, wes.ctx, "room-websocket")
	samProblems.Check(t, "sam")
	wesProblems.Check(t, "wes")
}

package proxy

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// sent waits until tb's composer is empty again: its message was taken.
func sent(tb e2e.Tab) {
	tb.T.Helper()
	tb.WaitFor("an empty composer", `document.getElementById('body') && document.getElementById('body').value === ''`)
}

// shows waits until tb's log shows text.
func shows(tb e2e.Tab, text string) {
	tb.T.Helper()
	tb.WaitFor(text, `[...document.querySelectorAll('.log li.msg .body')].some(b => b.textContent === '`+text+`')`)
}

// Two people chat through nginx with deploy/nginx.conf: pages, posts, the
// SSE stream (each message must come through at once, not when a buffer
// fills) and the WebSocket transport.
func TestChatThroughNginx(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t, "-trust-proxy")
	p := e2e.StartProxy(t, s)
	ann, bob := e2e.OpenTab(t, browser, p), e2e.OpenTab(t, browser, p)
	problems := browsertest.WatchConsole(bob.Ctx)
	ann.Signup("ann")
	ann.Do(chromedp.Navigate(p.URL+"/rooms"), chromedp.SetValue(chromedp.ID("room-name"), "proxied"))
	ann.Submit(`.create-room button`)
	room := ann.Eval(`location.pathname`)
	bob.Signup("bob")
	bob.Do(chromedp.Navigate(p.URL + room))
	bob.Submit(`.join-invite button`)
	bob.WaitLive()
	ann.WaitLive()

	ann.Send("through the proxy")
	shows(bob, "through the proxy")
	bob.Send("and back")
	shows(ann, "and back")
	sent(bob)

	// The same over the WebSocket transport: nginx must pass the upgrade.
	bob.Do(chromedp.Navigate(p.URL+room+"?transport=ws"), chromedp.WaitVisible(chromedp.ID("composer")))
	bob.WaitLive()
	ann.Send("over the socket")
	shows(bob, "over the socket")
	bob.Send("socket reply")
	shows(ann, "socket reply")
	problems.Check(t, "bob")
}

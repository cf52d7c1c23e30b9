// Package session holds browser tests of what a page does when its sign-in
// ends while it is open.
package session

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }

func TestSignedOutPageOverSSE(t *testing.T) { testSignedOutPage(t, false) }

func TestSignedOutPageOverWebSocket(t *testing.T) { testSignedOutPage(t, true) }

// Logging out in one tab ends the stream of another tab at once. That tab
// says it was signed out, with a log-in link, and stops reconnecting; what
// was typed in it stays, survives a Send that can no longer be accepted,
// and comes back after logging in again through the link.
func testSignedOutPage(t *testing.T, socket bool) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	first := e2e.OpenTab(t, browser, s)
	problems := browsertest.WatchConsole(first.Ctx)

	first.Signup("alice")
	first.Do(chromedp.SetValue(chromedp.ID("room-name"), "general"))
	first.Submit(`.create-room button`)
	if socket {
		first.Submit(`.transport button`)
	}
	first.WaitLive()
	room := first.Eval(`location.pathname`)

	second := first.SameProfile()
	secondProblems := browsertest.WatchConsole(second.Ctx)
	second.Do(chromedp.Navigate(s.URL + room))
	second.WaitLive()
	const draft = "a half-written thought"
	second.Do(chromedp.SendKeys(chromedp.ID("body"), draft))

	first.Submit(`form[action="/logout"] button`)

	second.WaitFor("the signed-out notice", `document.getElementById('notice').textContent.includes('You have been signed out')`)
	if got := second.Eval(`document.documentElement.dataset.stream + ' ' + (document.getElementById('stream') ? 'stream' : 'no-stream')`); got != "signed-out no-stream" {
		t.Errorf("after signing out the page is %q, want it signed out and the stream gone", got)
	}
	if got := second.Eval(`document.querySelector('#notice a').getAttribute('href')`); got != "/login?next="+strings.ReplaceAll(room, "/", "%2F") {
		t.Errorf("log-in link %q", got)
	}
	browsertest.Screenshot(t, second.Ctx, "signed-out")

	// Send now cannot be accepted: the page stays, and so does the text.
	second.Do(chromedp.Click(chromedp.CSS(`#composer button[type=submit]`)))
	second.WaitFor("the text still in the composer after Send", `location.pathname === '`+room+`' && document.getElementById('body').value === '`+draft+`'`)

	// Submit waits for the log-in page's load: typing into a page chromedp
	// has not yet seen replace the old one fails to find the field.
	second.Submit(`#notice a`)
	second.WaitFor("the log-in form", `document.getElementById('username') !== null`)
	second.Do(
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "password-alice"),
	)
	second.Submit(`form button[type=submit]`)
	second.WaitFor("the room again, with the draft", `location.pathname === '`+room+`' && document.getElementById('body').value === '`+draft+`'`)
	second.WaitLive()

	// Sending it clears the draft for good: a reload shows an empty composer.
	second.Send("")
	second.WaitFor("the sent draft in the log", e2e.LogText+`.includes('`+draft+`') && document.getElementById('body').value === ''`)
	second.Do(chromedp.Reload())
	second.WaitLive()
	if got := second.Eval(`document.getElementById('body').value`); got != "" {
		t.Errorf("after sending and reloading the composer holds %q", got)
	}
	problems.Check(t, "the tab that logged out")
	// Its stream was refused (401) when it tried to take over from the tab
	// that logged out, which the browser logs.
	secondProblems.Check(t, "the tab that was signed out", "status of 401")
}

// A message that was stored but whose answer the page never saw (it was
// left at once) does not come back as a draft on the next page; a draft
// that was never sent does.
func TestSentTextDoesNotComeBackAsADraft(t *testing.T) {
	s, tb := aliceInARoom(t)
	room := tb.Eval(`location.pathname`)

	sentAndLeft(s, tb, room, "sent already")
	tb.WaitFor("the message in the log", `[...document.querySelectorAll('.log li.msg .body')].some(b => b.textContent === 'sent already')`)
	if got := tb.Eval(`document.getElementById('body').value`); got != "" {
		t.Fatalf("the composer came back with %q", got)
	}

	tb.Do(chromedp.SendKeys(chromedp.ID("body"), "not sent"))
	tb.Do(chromedp.Navigate(s.URL + room))
	tb.WaitFor("the unsent draft back", `document.getElementById('body').value === 'not sent'`)
}

// sentAndLeft types text (so it is kept as a draft), stores it with a post
// whose answer the composer never gets, as when the page is left right
// after Send, and loads the room again.
func sentAndLeft(s *e2e.Server, tb e2e.Tab, room, text string) {
	tb.T.Helper()
	tb.Do(chromedp.SendKeys(chromedp.ID("body"), text))
	tb.Eval(`window.__posted = null; fetch(document.getElementById('composer').action, {method: 'POST', body: new URLSearchParams(new FormData(document.getElementById('composer')))}).then(r => window.__posted = r.status), 'posting'`)
	tb.WaitFor("the post", `window.__posted !== null`)
	tb.Do(chromedp.Navigate(s.URL + room))
}

// A sent message that the log shows otherwise than it was typed (its
// markup rendered) comes back as a draft, since the page cannot tell it
// was sent; but it comes back with the client id it was sent with, so
// sending it again shows the stored message instead of posting it twice.
func TestASentDraftIsNeverPostedTwice(t *testing.T) {
	s, tb := aliceInARoom(t)
	room := tb.Eval(`location.pathname`)
	sentAndLeft(s, tb, room, "this is **bold**")
	const shown = `[...document.querySelectorAll('.log li.msg .body')].filter(b => b.textContent === 'this is bold').length`
	tb.WaitFor("the message in the log", shown+` === 1`)
	tb.WaitFor("the draft back", `document.getElementById('body').value === 'this is **bold**'`)
	tb.Send("")
	tb.WaitFor("the composer empty after Send", `document.getElementById('body').value === '' && !document.querySelector('#composer [role=alert]')?.textContent`)
	tb.Do(chromedp.Navigate(s.URL + room))
	tb.WaitFor("the log", `Boolean(document.querySelector('.log'))`)
	if n := tb.Eval(`String(` + shown + `)`); n != "1" {
		t.Fatalf("the log shows the message %s times, want once", n)
	}
}

// A draft that was sent already and then changed is refused as such, and
// the refusal gives the composer a fresh client id: the draft takes it,
// so after a reload the changed text sends as a new message instead of
// being refused again for good.
func TestAChangedSentDraftSendsAfterItsRefusal(t *testing.T) {
	s, tb := aliceInARoom(t)
	room := tb.Eval(`location.pathname`)
	sentAndLeft(s, tb, room, "first **draft**")
	tb.WaitFor("the draft back", `document.getElementById('body').value === 'first **draft**'`)
	tb.Send(" changed")
	tb.WaitFor("the refusal", `document.querySelector('#composer [role=alert]')?.textContent.includes('already arrived')`)
	tb.Do(chromedp.Navigate(s.URL + room))
	tb.WaitFor("the changed draft back", `document.getElementById('body').value === 'first **draft** changed'`)
	tb.Send("")
	tb.WaitFor("the changed text sent as a new message", `[...document.querySelectorAll('.log li.msg .body')].some(b => b.textContent === 'first draft changed')`)
}

// Text typed while a message is on its way stays in the composer that the
// answer puts in place (a slow link makes that window long): after a sent
// message, the rest; after a refused one, all of it.
func TestTextTypedWhileSendingStays(t *testing.T) {
	_, tb := aliceInARoom(t)

	// Posts wait until the test lets them go, as on a slow link.
	gate := `window.__go = null; { const f = window.fetch, held = new Promise((go) => { window.__go = go; });
		window.fetch = (u, o) => (o && o.method === 'POST' && String(u).endsWith('/messages')) ? held.then(() => f(u, o)) : f(u, o); } 'gated'`
	tb.Eval(gate)
	tb.Send("on its way")
	tb.Do(chromedp.SendKeys(chromedp.ID("body"), "and more"))
	tb.Eval(`window.__go(), 'released'`)
	tb.WaitFor("the message in the log", `[...document.querySelectorAll('.log li.msg .body')].some(b => b.textContent === 'on its way')`)
	tb.WaitFor("the text typed meanwhile", `document.getElementById('body').value === 'and more'`)

	// A refused message (a control character in it) keeps what was typed
	// after it too.
	tb.Eval(gate)
	tb.Eval(`document.getElementById('body').value = 'bell\u0007', document.getElementById('composer').requestSubmit(), 'sent'`)
	tb.Do(chromedp.SendKeys(chromedp.ID("body"), "!"))
	tb.Eval(`window.__go(), 'released'`)
	tb.WaitFor("the refusal", `document.querySelector('#composer [role=alert]')?.textContent.includes('control character')`)
	if got := tb.Eval(`document.getElementById('body').value`); got != "bell\a!" {
		t.Fatalf("after the refusal the composer holds %q, want all that was typed", got)
	}
}

// Over the WebSocket too: the answer to a post comes from the socket,
// aimed at the composer, and the text typed meanwhile stays.
func TestTextTypedWhileSendingStaysOverWebSocket(t *testing.T) {
	_, tb := aliceInARoom(t)
	tb.Submit(`.transport button`)
	tb.WaitLive()
	// Frames wait until the test lets them go, as on a slow link.
	tb.Eval(`window.__go = null; { const send = WebSocket.prototype.send, held = [];
		WebSocket.prototype.send = function (d) { held.push([this, d]); };
		window.__go = () => { WebSocket.prototype.send = send; for (const [ws, d] of held) send.call(ws, d); }; } 'gated'`)
	tb.Send("on its way")
	tb.Do(chromedp.SendKeys(chromedp.ID("body"), "and more"))
	tb.Eval(`window.__go(), 'released'`)
	tb.WaitFor("the message in the log", `[...document.querySelectorAll('.log li.msg .body')].some(b => b.textContent === 'on its way')`)
	tb.WaitFor("the text typed meanwhile", `document.getElementById('body').value === 'and more'`)
}

// aliceInARoom signs alice up in a fresh browser and server and opens a
// room of hers, live.
func aliceInARoom(t *testing.T) (*e2e.Server, e2e.Tab) {
	t.Helper()
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	tb := e2e.OpenTab(t, browser, s)
	tb.Signup("alice")
	tb.Do(chromedp.SetValue(chromedp.ID("room-name"), "general"))
	tb.Submit(`.create-room button`)
	tb.WaitLive()
	return s, tb
}

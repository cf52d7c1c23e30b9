package live

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
	"github.com/rtmessenger/rtmessenger/internal/poll"
)

// conversation starts (or opens) a direct conversation with username and
// returns its path.
func conversation(tb e2e.Tab, username string) string {
	tb.T.Helper()
	tb.Do(chromedp.Navigate(tb.URL + "/rooms"))
	tb.Do(chromedp.SetValue(chromedp.ID("dm-with"), username))
	tb.Submit(`.start-conversation button`)
	tb.Do(chromedp.WaitVisible(chromedp.ID("composer")))
	return tb.Eval(`location.pathname`)
}

func typingLine(room string) string {
	return `document.getElementById('typing-' + ` + strconv.Quote(room[len("/rooms/"):]) + `).textContent`
}

// Typing shows for the other person, not the typist, and goes away on
// its own once typing stops (6 s), or at once when the message is sent.
func TestTypingShowsForOthersAndExpires(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	ann, bob := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	annProblems, bobProblems := browsertest.WatchConsole(ann.Ctx), browsertest.WatchConsole(bob.Ctx)
	ann.Signup("ann")
	room := ann.CreateRoom("typing")
	bob.Signup("bob")
	bob.Join(room)
	ann.WaitLive()
	bob.WaitLive()

	ann.Do(chromedp.SendKeys(chromedp.ID("body"), "half a thou"))
	bob.WaitFor("ann typing", typingLine(room)+` === 'ann is typing…'`)
	if got := ann.Eval(typingLine(room)); got != "" {
		t.Errorf("ann's own page says %q: the typist must not see herself", got)
	}
	bob.WaitFor("the typing to expire", typingLine(room)+` === ''`)

	// Both typing: each sees only the other.
	ann.Do(chromedp.SendKeys(chromedp.ID("body"), "ght"))
	bob.Do(chromedp.SendKeys(chromedp.ID("body"), "me too"))
	bob.WaitFor("ann typing", typingLine(room)+` === 'ann is typing…'`)
	ann.WaitFor("bob typing", typingLine(room)+` === 'bob is typing…'`)
	ann.Send("")
	bob.WaitFor("ann's message", e2e.LogText+`.includes('half a thought')`)
	bob.WaitFor("ann no longer typing once she sent it", typingLine(room)+` === ''`)
	browsertest.Screenshot(t, ann.Ctx, "typing")

	// Over the WebSocket the same.
	bob.Submit(`.transport button`)
	bob.WaitFor("the WebSocket", `document.getElementById('socket') !== null`)
	bob.WaitLive()
	ann.Do(chromedp.SendKeys(chromedp.ID("body"), "over the socket"))
	bob.WaitFor("ann typing, over the WebSocket", typingLine(room)+` === 'ann is typing…'`)
	annProblems.Check(t, "ann")
	bobProblems.Check(t, "bob")
}

// dotOf is the presence bob's dot shows on ann's page.
func dotOf(user string) string {
	return `document.querySelector('#sidebar [data-presence-of="` + user + `"]')?.dataset.presence`
}

// Presence: ann sees bob's dot turn on when he opens a page, away when he
// leaves it untouched (-away-after), back on when he moves, and off once
// he closes it.
func TestPresenceDotFollowsThePerson(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t, "-away-after", "8s")
	ann, bob := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	problems := browsertest.WatchConsole(ann.Ctx)
	bob.Signup("bob")
	bobID := bob.Eval(`document.documentElement.dataset.user`)
	ann.Signup("ann")
	room := conversation(ann, "bob")
	ann.WaitLive()

	bob.Do(chromedp.Navigate("about:blank"))
	ann.WaitFor("bob offline after he closed his page", dotOf(bobID)+` === 'offline'`)
	if got := ann.Eval(`document.querySelector('#sidebar [data-presence-of="` + bobID + `"]').title`); got != "Offline" {
		t.Errorf("dot title %q", got)
	}

	bob.Do(chromedp.Navigate(s.URL + room))
	bob.WaitLive()
	moves := 0
	move := func() {
		moves++
		bob.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: float64(200 + moves%50), Y: 200})
			return err
		}))
	}
	// On a busy machine bob's page may take longer to go live than the 8 s
	// that make him away: he moves until ann sees him online.
	poll.Within(t, time.Minute, "ann to see bob online again", func() bool {
		move()
		return ann.Eval("String("+dotOf(bobID)+")") == "online"
	})
	ann.WaitFor("bob away after 8 s untouched", dotOf(bobID)+` === 'away'`)
	bob.WaitFor("bob's page told he is away", `document.documentElement.dataset.presence === 'away'`)
	move()
	ann.WaitFor("bob back once he moves", dotOf(bobID)+` === 'online'`)

	// The members page of a room, rendered now, shows the same.
	ann.Do(chromedp.Navigate(s.URL + room + "/members"))
	if got := ann.Eval(`document.querySelector('main [data-presence-of="` + bobID + `"]').dataset.presence`); got != "online" && got != "away" {
		t.Errorf("members page shows bob %q", got)
	}
	browsertest.Screenshot(t, ann.Ctx, "presence-members")
	problems.Check(t, "ann")
}

// recorder replaces the browser's notifications with one that records
// them, and lets the test say whether the page is hidden. Permission, once
// given, lasts as the browser's would (in localStorage).
const recorder = `(() => {
  window.__notes = [];
  window.__hidden = false;
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get() { return window.__hidden; } });
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get() { return window.__hidden ? 'hidden' : 'visible'; } });
  class Recorder {
    constructor(title, opts) { window.__notes.push({ title, body: opts && opts.body, tag: opts && opts.tag }); }
    static get permission() { return localStorage.getItem('test-permission') || 'default'; }
    static requestPermission() { localStorage.setItem('test-permission', 'granted'); return Promise.resolve('granted'); }
  }
  window.Notification = Recorder;
})();`

func withRecorder(t *testing.T, tb e2e.Tab) {
	t.Helper()
	if _, err := chromedp.Call(tb.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: recorder}); err != nil {
		t.Fatal(err)
	}
}

func hide(tb e2e.Tab, hidden bool) {
	tb.T.Helper()
	tb.Eval(fmt.Sprintf(`(window.__hidden = %t, document.dispatchEvent(new Event('visibilitychange')), '')`, hidden))
}

// notes counts the notifications all of tabs showed.
func notes(tabs ...e2e.Tab) int {
	n := 0
	for _, tb := range tabs {
		v, err := strconv.Atoi(tb.Eval(`String(window.__notes.length)`))
		if err != nil {
			tb.T.Fatal(err)
		}
		n += v
	}
	return n
}

// say posts a message to room from tb's page, as a form post would, and
// returns once it is stored.
func say(tb e2e.Tab, room, text string) {
	tb.T.Helper()
	js := `(() => { const x = new XMLHttpRequest(); x.open('POST', ` + strconv.Quote(room+"/messages") + `, false);
		x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded'); x.setRequestHeader('HX-Request', 'true');
		x.send(new URLSearchParams({ body: ` + strconv.Quote(text) + ` }).toString()); return String(x.status); })()`
	if got := tb.Eval(js); got != "200" {
		tb.T.Fatalf("posting %q: %s", text, got)
	}
}

// delivered posts a sentinel to the lobby and waits until every tab shows
// it: everything sent before it has reached them too (one stream, in order).
func delivered(ann e2e.Tab, lobby, text string, tabs ...e2e.Tab) {
	ann.T.Helper()
	say(ann, lobby, text)
	for _, tb := range tabs {
		tb.WaitFor(text, e2e.LogText+`.includes(`+strconv.Quote(text)+`)`)
	}
}

// Notifications are off until turned on; then a direct message to a
// hidden browser shows one notification, not one per tab; a plain room
// message, a visible page, or notifications turned off show none.
func TestNotificationsAreOptInAndOnePerMessage(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	ann, bob := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	withRecorder(t, bob)
	problems := browsertest.WatchConsole(bob.Ctx)
	ann.Signup("ann")
	lobby := ann.CreateRoom("lobby")
	bob.Signup("bob")
	bob.Join(lobby)
	dm := conversation(ann, "bob")
	bob.Do(chromedp.Navigate(s.URL + lobby)) // the sidebar now lists the conversation
	bob.WaitLive()

	bob.WaitFor("the toggle", `!document.getElementById('notify').hidden`)
	if got := bob.Eval(`document.getElementById('notify-toggle').getAttribute('aria-pressed')`); got != "false" {
		t.Fatalf("notifications start %q, want off", got)
	}
	hide(bob, true)
	say(ann, dm, "before opting in")
	delivered(ann, lobby, "sentinel 1", bob)
	if n := notes(bob); n != 0 {
		t.Fatalf("%d notifications before opting in", n)
	}

	hide(bob, false)
	bob.Do(chromedp.Click(chromedp.ID("notify-toggle")))
	bob.WaitFor("notifications on", `document.getElementById('notify-toggle').getAttribute('aria-pressed') === 'true'`)
	second := bob.SameProfile()
	withRecorder(t, second)
	second.Do(chromedp.Navigate(s.URL + lobby))
	second.WaitLive()
	tabs := []e2e.Tab{bob, second}
	for _, tb := range tabs {
		hide(tb, true)
	}
	say(ann, dm, "are you there?")
	delivered(ann, lobby, "sentinel 2", tabs...)
	if n := notes(tabs...); n != 1 {
		t.Fatalf("%d notifications for one direct message to a browser with two tabs", n)
	}

	// A room message is no reason to notify; a mention and the next direct
	// message are.
	say(ann, lobby, "just chatting")
	say(ann, lobby, "@bob have a look")
	say(ann, dm, "hello again")
	delivered(ann, lobby, "sentinel 3", tabs...)
	got := ""
	for _, tb := range tabs {
		got += tb.Eval(`window.__notes.map(n => n.title + ': ' + n.body + '\n').join('')`)
	}
	if got != "ann: are you there?\nann mentioned you in # lobby: @bob have a look\nann: hello again\n" {
		t.Errorf("notifications:\n%s", got)
	}

	// A visible page, or notifications turned off, shows none.
	for _, tb := range tabs {
		hide(tb, false)
	}
	say(ann, dm, "you can see this")
	delivered(ann, lobby, "sentinel 4", tabs...)
	bob.Do(chromedp.Click(chromedp.ID("notify-toggle")))
	bob.WaitFor("notifications off", `document.getElementById('notify-toggle').getAttribute('aria-pressed') === 'false'`)
	for _, tb := range tabs {
		hide(tb, true)
	}
	say(ann, dm, "nobody is told")
	delivered(ann, lobby, "sentinel 5", tabs...)
	if n := notes(tabs...); n != 3 {
		t.Fatalf("%d notifications, want still 3", n)
	}
	problems.Check(t, "bob")
}

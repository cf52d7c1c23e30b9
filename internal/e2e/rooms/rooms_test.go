package rooms

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestTwoBrowsersChatLive(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	anna := e2e.OpenTab(t, browser, s)
	ben := e2e.OpenTab(t, browser, s)
	annaProblems, benProblems := browsertest.WatchConsole(anna.Ctx), browsertest.WatchConsole(ben.Ctx)

	anna.Signup("anna")
	anna.Do(
		chromedp.SendKeys(chromedp.ID("room-name"), "lobby"),
		chromedp.SendKeys(chromedp.ID("room-topic"), "say hi"),
		chromedp.Click(chromedp.CSS(`.create-room button`)),
		chromedp.WaitVisible(chromedp.ID("composer")),
	)
	room := anna.Eval(`location.pathname`)

	ben.Signup("ben")
	ben.Do(
		chromedp.Navigate(s.URL+room),
		chromedp.Click(chromedp.CSS(`.join-invite button`)),
		chromedp.WaitVisible(chromedp.ID("composer")),
	)
	// Anna's open page learns of Ben's arrival over her stream.
	anna.WaitFor("ben's join line", e2e.LogText+`.includes('ben joined the room')`)
	anna.WaitFor("the member count", `document.querySelector('.room-head').innerText.includes('2 members')`)
	// Ben has the room open in a second tab too.
	benTab2 := ben.SameProfile()
	benTab2.Do(chromedp.Navigate(s.URL+room), chromedp.WaitVisible(chromedp.ID("composer")))

	// A marker that a reload would wipe out: delivery must be live.
	ben.Eval(`window.notReloaded = 'yes'`)
	anna.Send("hello ben <b>not bold</b>") // Enter sends
	ben.WaitFor("anna's message", e2e.LogText+`.includes('hello ben <b>not bold</b>')`)
	benTab2.WaitFor("anna's message in ben's second tab", e2e.LogText+`.includes('hello ben <b>not bold</b>')`)
	anna.WaitFor("a fresh composer", `document.querySelector('#body').value === '' && `+e2e.LogText+`.includes('hello ben')`)
	if ben.Eval(`window.notReloaded`) != "yes" {
		t.Fatal("ben's page reloaded; the message must arrive live")
	}
	if n := ben.Eval(`String(document.querySelectorAll('ol.log b').length)`); n != "0" {
		t.Fatalf("markup in a message became %s element(s)", n)
	}

	// Ben answers with the button; Anna sees it; each message shows once, in order.
	ben.Do(
		chromedp.SendKeys(chromedp.ID("body"), "hi anna"),
		chromedp.Click(chromedp.CSS(`#composer button`)),
	)
	anna.WaitFor("ben's reply", e2e.LogText+`.includes('hi anna')`)
	// Ben's own page has it over his stream, and a fresh composer from the
	// post's answer, in its own time: anna seeing it says nothing of that.
	ben.WaitFor("ben's reply on his page, and a fresh composer", `document.querySelector('#body').value === '' && `+e2e.LogText+`.includes('hi anna')`)
	for _, tb := range []e2e.Tab{anna, ben} {
		got := tb.Eval(`[...document.querySelectorAll('ol.log li .body')].map(e => e.textContent).join('|')`)
		if got != "hello ben <b>not bold</b>|hi anna" {
			t.Errorf("log reads %q", got)
		}
		if time := tb.Eval(`document.querySelector('ol.log li time').textContent`); strings.Contains(time, "UTC") {
			t.Errorf("times were not shown in local time: %q", time)
		}
	}
	// A message in a room that is not on screen marks it in the sidebar.
	other := anna.Eval(`location.pathname`)
	anna.Do(
		chromedp.Navigate(s.URL+"/rooms"),
		chromedp.SendKeys(chromedp.ID("room-name"), "side"),
		chromedp.Click(chromedp.CSS(`.create-room button`)),
		chromedp.WaitVisible(chromedp.ID("composer")),
	)
	ben.Send("psst")
	anna.WaitFor("an unread mark", `document.querySelector('.sidebar a[href="`+other+`"]').classList.contains('has-unread')`)

	browsertest.Screenshot(t, anna.Ctx, "room-anna")
	browsertest.Screenshot(t, ben.Ctx, "room-ben")
	annaProblems.Check(t, "anna")
	benProblems.Check(t, "ben")
}

// With script off, every step is a plain form post and redirect.
func TestChatWorksWithoutJavaScript(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	cleo := e2e.OpenTab(t, browser, s)
	if _, err := chromedp.Call(cleo.Ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	cleo.SignupForm("cleo")
	cleo.Do(
		chromedp.SendKeys(chromedp.ID("room-name"), "quiet"),
		chromedp.Click(chromedp.CSS(`.create-room button`)),
		chromedp.WaitVisible(chromedp.ID("composer")),
	)
	for i := range 2 {
		cleo.Do(chromedp.SendKeys(chromedp.ID("body"), fmt.Sprint("no script needed ", i)))
		cleo.Submit(`#composer button`)
	}
	text, err := chromedp.Run(cleo.Ctx, chromedp.Text(chromedp.CSS("ol.log")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "no script needed 0") || !strings.Contains(text, "no script needed 1") {
		t.Fatalf("log after two posts: %q", text)
	}
	browsertest.Screenshot(t, cleo.Ctx, "room-nojs")
	// Without script there is no choice of transports: the page says what
	// arrives live instead.
	cleo.Do(chromedp.WaitVisible(chromedp.CSS(".live-off")), chromedp.WaitNotVisible(chromedp.CSS("form.transport")))
	cleo.Submit(`.room-head button`) // leave
	if text, _ := chromedp.Run(cleo.Ctx, chromedp.Text(chromedp.ID("others-h"))); text == "" {
		t.Fatal("rooms page missing after leaving")
	}
}

// Browsers allow six connections per site. Every page holds a stream, so a
// page that is left must let go of its stream at once, or after a few clicks
// new pages stall. Go back and forth well past six.
func TestManyPageChangesKeepWorking(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	fay := e2e.OpenTab(t, browser, s)
	fay.Signup("fay")
	for _, name := range []string{"north", "south"} {
		fay.Do(chromedp.Navigate(s.URL+"/rooms"), chromedp.SetValue(chromedp.ID("room-name"), name))
		fay.Submit(`.create-room button`)
		fay.WaitLive()
	}
	for i := range 12 {
		room := []string{"north", "south"}[i%2]
		fay.Submit(`.sidebar a[href="` + fay.RoomPath(room) + `"]`) // a link click navigates like a submit
		fay.WaitLive()
		if got := fay.Eval(`document.querySelector('h1').textContent`); got != "# "+room {
			t.Fatalf("step %d: on %q, want %q", i, got, room)
		}
	}
}

// One person on Server-Sent Events, one on the WebSocket: they chat both
// ways, live, and the socket page posts over its socket.
func TestSSEAndWebSocketUsersChat(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	sam := e2e.OpenTab(t, browser, s) // SSE
	wes := e2e.OpenTab(t, browser, s) // WebSocket
	samProblems, wesProblems := browsertest.WatchConsole(sam.Ctx), browsertest.WatchConsole(wes.Ctx)
	browsertest.Guard(t, wes.Ctx)

	sam.Signup("sam")
	sam.Do(chromedp.SetValue(chromedp.ID("room-name"), "both"))
	sam.Submit(`.create-room button`)
	sam.WaitLive()
	room := sam.Eval(`location.pathname`)

	wes.Signup("wes")
	wes.Do(chromedp.Navigate(s.URL + room))
	wes.Submit(`.join-invite button`)
	wes.Submit(`.transport button`) // switch this account to the WebSocket
	if wes.Eval(`document.querySelector('#socket') ? 'socket' : 'none'`) != "socket" {
		t.Fatalf("the page did not switch to the WebSocket: %s", wes.Describe())
	}
	wes.WaitLive()
	sam.WaitFor("wes's join line", e2e.LogText+`.includes('wes joined the room')`)

	wes.Send("hello over a socket")
	sam.WaitFor("the socket user's message", e2e.LogText+`.includes('hello over a socket')`)
	wes.WaitFor("a fresh composer", `document.querySelector('#body').value === '' && `+e2e.LogText+`.includes('hello over a socket')`)

	sam.Send("hello back over SSE")
	wes.WaitFor("the SSE user's message", e2e.LogText+`.includes('hello back over SSE')`)
	sam.WaitFor("sam's own message", e2e.LogText+`.includes('hello back over SSE')`) // it comes back over sam's stream
	for _, tb := range []e2e.Tab{sam, wes} {
		if got := tb.Eval(`[...document.querySelectorAll('ol.log li .body')].map(e => e.textContent).join('|')`); got != "hello over a socket|hello back over SSE" {
			t.Errorf("log reads %q", got)
		}
	}
	browsertest.CheckGuard(t, wes.Ctx, "socket page")
	browsertest.Screenshot(t, wes.Ctx, "room-websocket")
	samProblems.Check(t, "sam")
	wesProblems.Check(t, "wes")
}

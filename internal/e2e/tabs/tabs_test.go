// Package tabs holds browser tests of many tabs in one browser: they share
// one stream, hand it on when its tab closes, and a browser that cannot
// share still loads every tab.
package tabs

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }

// isLeader is true in the tab that holds the browser's stream.
const isLeader = `document.getElementById('stream').hasAttribute('hx-sse:connect')`

// waitConns waits until the server holds n stream connections.
func waitConns(t *testing.T, s *e2e.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := int(s.Vars()["stream_conns"])
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server holds %d stream connections, want %d", got, n)
		}
		time.Sleep(50 * time.Millisecond) // the polling interval
	}
}

// Ten tabs of one browser over plain HTTP (where a browser allows six
// connections per site): every tab loads and is live, the server sees one
// stream for the browser, a message reaches every tab showing its room,
// and when the tab holding the stream closes another takes it over without
// losing a message posted meanwhile.
func TestTenTabsShareOneStream(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t, "-debug-addr", "127.0.0.1:0")
	ann := e2e.OpenTab(t, browser, s)
	bob := e2e.OpenTab(t, browser, s)
	ann.Signup("ann")
	ann.Do(chromedp.SetValue(chromedp.ID("room-name"), "lobby"))
	ann.Submit(`.create-room button`)
	lobby := ann.Eval(`location.pathname`)
	ann.Do(chromedp.Navigate(s.URL + "/rooms"))
	ann.Do(chromedp.SetValue(chromedp.ID("room-name"), "quiet"))
	ann.Submit(`.create-room button`)
	quiet := ann.Eval(`location.pathname`)
	bob.Signup("bob")
	bob.Do(chromedp.Navigate(s.URL + lobby))
	bob.Submit(`.join-invite button`)
	bob.WaitLive()

	tabs := []e2e.Tab{ann}
	for i := 1; i < 10; i++ {
		tb := ann.SameProfile()
		room := lobby
		if i%2 == 1 {
			room = quiet
		}
		tb.Do(chromedp.Navigate(s.URL+room), chromedp.WaitVisible(chromedp.ID("composer")))
		tabs = append(tabs, tb)
	}
	problems := make([]*browsertest.Problems, len(tabs))
	for i, tb := range tabs {
		tb.WaitLive()
		problems[i] = browsertest.WatchConsole(tb.Ctx)
	}
	waitConns(t, s, 2) // one for ann's ten tabs, one for bob
	browsertest.Screenshot(t, tabs[9].Ctx, "tenth-tab")

	say(bob, "hello, all ten tabs")
	tabs[2].WaitFor("the message in tab 2", e2e.LogText+`.includes('hello, all ten tabs')`) // a lobby tab
	hello := tabs[2].Eval(`[...document.querySelectorAll('ol.log > li.msg')].pop().id.slice(4)`)
	for i, tb := range tabs {
		if tb.Eval(`location.pathname`) == lobby {
			tb.WaitFor(fmt.Sprintf("the message in tab %d", i), e2e.LogText+`.includes('hello, all ten tabs')`)
		} else {
			// Counted in the sidebar, or already read: the tabs showing the
			// lobby mark it read, and every tab follows.
			tb.WaitFor(fmt.Sprintf("the lobby's count past the message in tab %d", i),
				`Number(document.getElementById('counts-`+strings.TrimPrefix(lobby, "/rooms/")+`').dataset.last) >= `+hello)
		}
	}

	leader := -1
	for i, tb := range tabs {
		if tb.Eval(`String(`+isLeader+`)`) == "true" {
			if leader >= 0 {
				t.Fatalf("tabs %d and %d both hold a stream", leader, i)
			}
			leader = i
		}
	}
	if leader < 0 {
		t.Fatal("no tab holds the stream")
	}
	closed := time.Now()
	// Closed as a person closes a tab: the page only, so the tabs opened
	// from it stay open.
	if _, err := chromedp.Call(tabs[leader].Ctx, page.Close, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	say(bob, "posted during the hand-over")
	rest := append(tabs[:leader:leader], tabs[leader+1:]...)
	took := waitNewLeader(t, rest, closed)
	t.Logf("the stream moved to another tab %v after closing the one that held it", took.Round(time.Millisecond))
	for i, tb := range rest {
		tb.WaitFor(fmt.Sprintf("tab %d live again", i), `document.documentElement.dataset.stream === 'live'`)
	}
	waitConns(t, s, 2)
	for i, tb := range rest {
		if tb.Eval(`location.pathname`) == lobby {
			tb.WaitFor(fmt.Sprintf("the hand-over message in tab %d", i), e2e.LogText+`.includes('posted during the hand-over')`)
			says := tb.Eval(`[...document.querySelectorAll('ol.log li:not(.system) .body')].map(e => e.textContent).join('|')`)
			if says != "hello, all ten tabs|posted during the hand-over" {
				t.Errorf("tab %d shows %q, want each message once, in order", i, says)
			}
		}
	}
	for i, p := range problems {
		if i != leader {
			p.Check(t, fmt.Sprintf("tab %d", i))
		}
	}
}

// waitNewLeader waits until one of tabs holds a live stream, and returns
// how long after since that took.
func waitNewLeader(t *testing.T, tabs []e2e.Tab, since time.Time) time.Duration {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, tb := range tabs {
			if tb.Eval(`String(`+isLeader+` && document.documentElement.dataset.stream === 'live')`) == "true" {
				return time.Since(since)
			}
		}
	}
	t.Fatal("no tab took the stream over after the one holding it closed")
	return 0
}

// say posts a message from tb's composer and waits for it to be sent.
func say(tb e2e.Tab, text string) {
	tb.T.Helper()
	tb.Send(text)
	tb.WaitFor("a fresh composer after sending", `document.getElementById('body').value === '' && `+e2e.LogText+`.includes('`+text+`')`)
}

// noSharing makes every later page of a tab look like a browser without
// Web Locks or BroadcastChannel.
const noSharing = `Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined });
delete window.BroadcastChannel;`

// A browser that cannot share falls back to one stream per tab, up to four
// (-max-tabs): the fifth and sixth tabs still load, say why they are not
// live, and post; the live ones get every message.
func TestTabsThatCannotShareStillLoad(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t, "-debug-addr", "127.0.0.1:0")
	first := e2e.OpenTab(t, browser, s)
	withoutSharing(t, first)
	first.Signup("old")
	first.Do(chromedp.SetValue(chromedp.ID("room-name"), "lobby"))
	first.Submit(`.create-room button`)
	first.WaitLive()
	room := first.Eval(`location.pathname`)
	if first.Eval(`String(Boolean(navigator.locks))`) != "false" {
		t.Fatal("the page still has Web Locks")
	}

	tabs := []e2e.Tab{first}
	for range 5 {
		tb := first.SameProfile()
		withoutSharing(t, tb)
		tb.Do(chromedp.Navigate(s.URL+room), chromedp.WaitVisible(chromedp.ID("composer")))
		tabs = append(tabs, tb)
	}
	live, off := 0, 0
	for i, tb := range tabs {
		tb.WaitFor(fmt.Sprintf("tab %d live, or saying why not", i), `['live', 'off'].includes(document.documentElement.dataset.stream)`)
		switch tb.Eval(`document.documentElement.dataset.stream`) {
		case "live":
			live++
		case "off":
			off++
			if msg := tb.Eval(`document.getElementById('notice').innerText`); !strings.Contains(msg, "other tabs of this browser are live") {
				t.Errorf("tab %d is off and says %q", i, msg)
			}
		}
	}
	if live != 4 || off != 2 {
		t.Fatalf("%d tabs live and %d off, want 4 and 2", live, off)
	}
	waitConns(t, s, 4)

	last := tabs[len(tabs)-1]
	say(last, "from a tab without live updates")
	for i, tb := range tabs[:len(tabs)-1] {
		if tb.Eval(`document.documentElement.dataset.stream`) == "live" {
			tb.WaitFor(fmt.Sprintf("the message in live tab %d", i), e2e.LogText+`.includes('from a tab without live updates')`)
		}
	}
}

func withoutSharing(t *testing.T, tb e2e.Tab) {
	t.Helper()
	if _, err := chromedp.Call(tb.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: noSharing}); err != nil {
		t.Fatal(err)
	}
}

// On the WebSocket transport the tabs share one socket too; a tab that does
// not hold it posts as a plain htmx request, and sees its message at once.
func TestTabsShareOneWebSocket(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t, "-debug-addr", "127.0.0.1:0")
	wes := e2e.OpenTab(t, browser, s)
	problems := browsertest.WatchConsole(wes.Ctx)
	wes.Signup("wes")
	wes.Do(chromedp.SetValue(chromedp.ID("room-name"), "sockets"))
	wes.Submit(`.create-room button`)
	wes.Submit(`.transport button`) // this account on the WebSocket
	wes.WaitLive()
	room := wes.Eval(`location.pathname`)

	tabs := []e2e.Tab{wes}
	for range 3 {
		tb := wes.SameProfile()
		tb.Do(chromedp.Navigate(s.URL+room), chromedp.WaitVisible(chromedp.ID("composer")))
		tb.WaitLive()
		tabs = append(tabs, tb)
	}
	waitConns(t, s, 1)
	holder := `document.getElementById('socket').hasAttribute('hx-ws:connect')`
	var follower e2e.Tab
	for _, tb := range tabs {
		if tb.Eval(`String(`+holder+`)`) == "false" {
			follower = tb
			break
		}
	}
	if follower.Ctx == nil {
		t.Fatal("every tab holds a socket")
	}
	say(follower, "sent from a tab without the socket")
	for i, tb := range tabs {
		tb.WaitFor(fmt.Sprintf("the message in tab %d", i), e2e.LogText+`.includes('sent from a tab without the socket')`)
	}
	waitConns(t, s, 1)
	problems.Check(t, "the first tab")
}

// The tab that holds the stream goes to another page, again and again,
// while another tab stays: the stream passes between them, and every page
// each of them shows is live. (A page the browser keeps for Back must let
// go of the stream's lock, or no tab would lead.)
func TestStreamHolderMovesBetweenPages(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t, "-debug-addr", "127.0.0.1:0")
	ann := e2e.OpenTab(t, browser, s)
	ann.Signup("ann")
	ann.Do(chromedp.SetValue(chromedp.ID("room-name"), "one"))
	ann.Submit(`.create-room button`)
	one := ann.Eval(`location.pathname`)
	ann.Do(chromedp.Navigate(s.URL + "/rooms"))
	ann.Do(chromedp.SetValue(chromedp.ID("room-name"), "two"))
	ann.Submit(`.create-room button`)
	two := ann.Eval(`location.pathname`)
	ann.WaitLive()
	other := ann.SameProfile()
	other.Do(chromedp.Navigate(s.URL+one), chromedp.WaitVisible(chromedp.ID("composer")))
	other.WaitLive()
	for i := range 6 {
		mover := ann
		if i%2 == 1 {
			mover = other // the other tab, which may hold the stream by now
		}
		dest := one
		if mover.Eval(`location.pathname`) == one {
			dest = two
		}
		mover.Do(chromedp.Navigate(s.URL+dest), chromedp.WaitVisible(chromedp.ID("composer")))
		mover.WaitLive()
		ann.WaitLive()
		other.WaitLive()
		waitConns(t, s, 1)
	}
	// Back to a page the browser kept: it comes back live, and still one
	// stream serves both tabs.
	ann.Do(chromedp.NavigateBack(), chromedp.WaitVisible(chromedp.ID("composer")))
	ann.WaitLive()
	other.WaitLive()
	waitConns(t, s, 1)
}

// A tab that takes the stream over after its page is parsed but before
// htmx has scanned it (DOMContentLoaded waits for a deferred script, held
// back here), and before its stream has answered, opens one stream. The
// tab connecting by itself and htmx's scan connecting again, before the
// first answer came, would hold two.
func TestHandOverBeforeThePageIsScannedOpensOneStream(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t, "-debug-addr", "127.0.0.1:0")
	link := e2e.StartLink(t, s)
	ann := e2e.OpenTab(t, browser, link.Server())
	ann.Signup("ann")
	ann.Do(chromedp.SetValue(chromedp.ID("room-name"), "lobby"))
	ann.Submit(`.create-room button`)
	ann.WaitLive()
	room := ann.Eval(`location.pathname`)
	waitConns(t, s, 1)

	late := ann.SameProfile()
	var asked atomic.Int32 // requests for the stream from the late tab
	if err := chromedp.Listen(late.Ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && strings.Contains(e.Request.URL, "/events") {
			asked.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	script, stream := link.Gate("/held.js"), link.Gate("/events")
	defer script()
	defer stream()
	link.DeferScript(room, "/held.js")
	if _, err := chromedp.Call(late.Ctx, page.Navigate, page.NavigateParams{URL: link.URL + room}); err != nil {
		t.Fatal(err)
	}
	late.WaitFor("the page parsed, its deferred script held", `document.readyState === 'interactive' && Boolean(document.getElementById('stream'))`)
	if _, err := chromedp.Call(ann.Ctx, page.Close, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	// The late tab's request for the lock waits while ann's page holds it:
	// none pending and one held is the late tab holding it.
	late.WaitFor("the late tab taking the stream over", `(navigator.locks.query().then((s) => { window.lockTaken = s.pending.length === 0 && s.held.length === 1; }), window.lockTaken === true)`)
	if state := late.Eval(`document.readyState`); state != "interactive" {
		t.Fatalf("the page is %s: the hand-over came after htmx scanned it, and this test shows nothing", state)
	}
	script()
	late.WaitFor("the page loaded", `document.readyState === 'complete'`)
	stream()
	late.WaitLive()
	say(late, "after the hand-over")
	if n := asked.Load(); n != 1 {
		t.Fatalf("the tab asked for the stream %d times, want once", n)
	}
	waitConns(t, s, 1)
}

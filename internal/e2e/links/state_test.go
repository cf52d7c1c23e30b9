package links

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// openRoom signs name up in tb and opens a new room, live.
func openRoom(tb e2e.Tab, name, room string) {
	tb.T.Helper()
	tb.Signup(name)
	tb.Do(
		chromedp.SendKeys(chromedp.ID("room-name"), room),
		chromedp.Click(chromedp.CSS(`.create-room button`)),
		chromedp.WaitVisible(chromedp.ID("composer")),
	)
	tb.WaitLive()
}

// recordStates keeps every state the page shows, in order, in
// window.states: a state that lasts a moment is still seen.
const recordStates = `(() => {
  const now = () => document.documentElement.dataset.stream;
  window.states = [now()];
  new MutationObserver(() => { if (window.states.at(-1) !== now()) window.states.push(now()); })
    .observe(document.documentElement, { attributes: true, attributeFilter: ['data-stream'] });
  return '';
})()`

const notice = `document.getElementById('notice')`

// The page says what its connection is doing: live; reconnecting as soon
// as the stream drops; offline when the browser has no network, or when
// the stream keeps failing (the link cut for real: Chromium's offline
// emulation leaves an open stream running); live again once it is back;
// signed out when the stream says the session ended.
func TestConnectionStateIsHonest(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	link := e2e.StartLink(t, s)
	anna := e2e.OpenTab(t, browser, link.Server())
	openRoom(anna, "anna", "lobby")
	if got := anna.Eval(`document.querySelector('.whoami').title`); got != "live" {
		t.Errorf("the live dot says %q", got)
	}

	// No network, as the browser knows it: offline at once, whatever the
	// open stream says; back to live when the network is.
	setOnline := func(online bool) {
		t.Helper()
		params := network.OverrideNetworkStateParams{Offline: !online, DownloadThroughput: -1, UploadThroughput: -1}
		if _, err := chromedp.Call(anna.Ctx, network.OverrideNetworkState, params); err != nil {
			t.Fatal(err)
		}
	}
	setOnline(false)
	anna.WaitFor("offline, no network", `navigator.onLine === false && document.documentElement.dataset.stream === 'offline' && `+notice+`.textContent.startsWith('You are offline.')`)
	setOnline(true)
	anna.WaitFor("live again", `document.documentElement.dataset.stream === 'live' && `+notice+`.hidden`)

	// The link cut: reconnecting, then offline while it stays cut.
	anna.Eval(recordStates)
	link.Cut()
	anna.WaitFor("offline, the server out of reach", `document.documentElement.dataset.stream === 'offline' && `+
		notice+`.textContent === 'Offline: cannot reach the server. Retrying…' && !`+notice+`.hidden`)
	if got := anna.Eval(`window.states.join(' ')`); got != "live reconnecting offline" {
		t.Errorf("states shown: %q, want live, reconnecting, offline", got)
	}
	if got := anna.Eval(`document.querySelector('.whoami').title`); got != "offline" {
		t.Errorf("the dot says %q while offline", got)
	}
	link.Restore()
	anna.WaitFor("live again after the cut", `document.documentElement.dataset.stream === 'live' && `+notice+`.hidden`)

	// Signed out elsewhere (here, by a request of this page): the stream says so.
	anna.Eval(`(fetch('/logout', { method: 'POST' }), '')`)
	anna.WaitFor("signed out", `document.documentElement.dataset.stream === 'signed-out' && `+notice+`.textContent.startsWith('You have been signed out.')`)
	if got := anna.Eval(`document.querySelector('.whoami').title`); got != "signed-out" {
		t.Errorf("the dot says %q when signed out", got)
	}
}

// A page whose stream cannot even start (the link dropped just after the
// page came) keeps trying, says so, and goes live once it can.
func TestFirstStreamRequestIsRetried(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	link := e2e.StartLink(t, s)
	anna := e2e.OpenTab(t, browser, link.Server())
	openRoom(anna, "anna", "lobby")
	room := anna.Eval(`location.pathname`)

	link.RefuseStreams()
	anna.Do(chromedp.Navigate(link.URL+room), chromedp.WaitVisible(chromedp.ID("composer")))
	anna.WaitFor("offline: no stream", `document.documentElement.dataset.stream === 'offline'`)
	link.Restore()
	anna.WaitFor("live once the stream can start", `document.documentElement.dataset.stream === 'live'`)
	anna.Send("live after all")
	anna.WaitFor("the message", e2e.LogText+`.includes('live after all')`)
	if strings.Contains(anna.Eval(notice+`.textContent`), "Offline") {
		t.Error("the offline notice stayed")
	}
}

package reconnect

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// A page whose first stream request is refused with an error status (429
// past the connection rate here; a proxy's 502 alike) tries again after
// Retry-After and goes live, rather than staying offline for good and
// holding the other tabs' stream lock.
func TestAStreamRefusedAtFirstTriesAgain(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t, "-stream-rate", "6") // a connection every 10 s once the burst is spent
	erin := e2e.OpenTab(t, browser, s)
	erin.Signup("erin")
	room := erin.CreateRoom("ops")

	erin.Eval(`window.__refused = false; (async () => {
		for (let i = 0; i < 60 && !window.__refused; i++) {
			const stop = new AbortController();
			const res = await fetch('/events?after=0', { signal: stop.signal });
			window.__refused = res.status === 429;
			stop.abort();
		}
	})(), 'spending the burst'`)
	erin.WaitFor("the connection rate spent", `window.__refused === true`)
	erin.Do(chromedp.Navigate(s.URL + room))
	erin.WaitLive()
}

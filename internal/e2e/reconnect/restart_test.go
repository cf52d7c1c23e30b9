package reconnect

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// A page open across a server restart resumes by itself: a small gap is
// replayed into the page, a large one makes the page reload.
func TestBrowserResumesAcrossRestart(t *testing.T) {
	for _, transport := range []string{"sse", "ws"} {
		t.Run(transport, func(t *testing.T) { testResumeAcrossRestart(t, transport) })
	}
}

func testResumeAcrossRestart(t *testing.T, transport string) {
	browser := browsertest.Start(t)
	s := e2e.Start(t, "-replay-limit", "5")
	dana := e2e.OpenTab(t, browser, s)
	dana.Signup("dana")
	dana.Do(chromedp.SetValue(chromedp.ID("room-name"), "ops"))
	dana.Submit(`.create-room button`)
	if transport == "ws" {
		dana.Submit(`.transport button`)
	}
	dana.WaitLive()
	dana.Eval(`window.notReloaded = 'yes'`)
	// htmx's own backoff grows to 60 s: after a long outage a page would
	// stay offline up to a minute after the server is back. And the tab
	// holding the stream may be in the background: it must not pause there.
	if got := dana.Eval(`htmx.config.` + transport + `.reconnectMaxDelay + ' ' + htmx.config.` + transport + `.pauseOnBackground`); got != "10000 false" {
		t.Fatalf("%s reconnect backoff cap and pause in the background: %s, want 10000 ms and false", transport, got)
	}

	restartWith := func(posts int, prefix string) {
		t.Helper()
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		dana.WaitFor("the reconnecting notice", `!document.getElementById('notice').hidden`)
		e2e.PostDirectly(t, s.DB, "dana", "ops", posts, prefix)
		s.Restart() // same address and database
	}

	restartWith(3, "small gap")
	dana.WaitFor("the replayed messages", e2e.LogText+`.includes('small gap 2')`)
	dana.WaitFor("the notice to go", `document.getElementById('notice').hidden`)
	if dana.Eval(`String(window.notReloaded)`) != "yes" {
		t.Fatal("a gap within the replay limit must not reload the page")
	}

	restartWith(8, "large gap")
	dana.WaitFor("a reload with every message", `window.notReloaded === undefined && `+e2e.LogText+`.includes('large gap 7')`)
	if n := dana.Eval(`String(document.querySelectorAll('ol.log li.msg').length)`); n != "12" {
		t.Fatalf("log has %s messages after reload, want 12 (join + 3 + 8)", n)
	}
}

package reconnect

import (
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// A stream that goes silent without closing (the laptop slept, a NAT
// forgot the connection) is dropped once it has missed its heartbeats,
// and the page resumes on a fresh one: what was sent into the silence
// arrives. Before, the page stayed "live" on the dead stream for good.
func TestASilentStreamIsDroppedAndResumed(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t, "-heartbeat", "1s")
	link := e2e.StartLink(t, s)
	fay := e2e.OpenTab(t, browser, link.Server())
	fay.Signup("fay")
	room := fay.CreateRoom("night")
	fay.WaitLive()
	gus := e2e.OpenTab(t, browser, s)
	gus.Signup("gus")
	gus.Join(room)
	gus.WaitLive()

	fay.Eval(`window.__streams = 0; document.getElementById('stream').addEventListener('htmx:sse:after:connection', () => window.__streams++), ''`)
	link.Silence()
	gus.Send("sent into the silence")
	gus.WaitFor("the message sent", e2e.LogText+`.includes('sent into the silence')`)
	fay.WaitFor("a fresh stream", `window.__streams > 0`)
	fay.WaitFor("the message sent into the silence", e2e.LogText+`.includes('sent into the silence')`)
	fay.WaitLive()
}

package budget

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// Over the WebSocket as over SSE: Chromium agrees permessage-deflate, a
// socket longer than the 32 KB window stays whole (each message copies
// from earlier ones and from primer messages the page passes over), and a
// message costs no more than the stream's budget. The bytes are counted
// between browser and server: DevTools reports a socket's messages
// inflated.
func TestTheWebSocketIsCompressedAndWhole(t *testing.T) {
	browser := browsertest.Start(t)
	// Ben posts 20 messages at once, then 22 more one by one: 42 within a
	// few seconds, past the default post burst (20, then 5 a second) on a
	// fast machine. This test measures bytes, not the rate limit.
	meter := e2e.StartWireMeter(t, e2e.Start(t, "-post-rate", "0"))
	s := meter.Server()
	ann, ben := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	ann.Signup("ann")
	general, random := createRoom(ann, "general"), createRoom(ann, "random")
	ben.Signup("ben")
	ben.Do(chromedp.Navigate(s.URL+general), chromedp.Click(chromedp.CSS(`.join-invite button`)), chromedp.WaitVisible(chromedp.ID("composer")))
	ann.Do(chromedp.Navigate(s.URL + general))
	ann.Submit(`.transport button`)
	ann.WaitFor("the WebSocket", `document.getElementById('socket') !== null`)
	ann.WaitLive()

	texts := longTexts(20, 2500)
	postAtOnce(ben, texts)
	wantBodies(ann, texts)
	browsertest.Screenshot(t, ann.Ctx, "socket-long-messages")
	if sent := meter.To("/ws"); sent > 60_000/2 {
		t.Errorf("the socket took %d B for about 60 KB of messages: not compressed", sent)
	}

	room := ann.Eval(`document.querySelector('#sidebar a[href="` + general + `"]').dataset.room`)
	ann.Do(chromedp.Navigate(s.URL + random))
	ann.WaitFor("the WebSocket", `document.getElementById('socket') !== null`)
	ann.WaitLive()
	ben.Submit(`.light-switch button[value="on"]`) // no typing signals: messages alone
	ben.WaitFor("light mode on", `!document.querySelector('.light-switch button[value="on"]')`)
	ben.WaitLive()
	perMessage := perMessage(ben, ann, room, func() int64 { return meter.To("/ws") })
	t.Logf("the WebSocket took %.0f B per message (budget %d)", perMessage, perMessageBudget)
	if perMessage > perMessageBudget {
		t.Errorf("the WebSocket took %.0f bytes per message, over the budget of %d", perMessage, perMessageBudget)
	}
}

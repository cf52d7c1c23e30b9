package tabs

import (
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// deafUntilTold makes a tab's BroadcastChannel drop what it sends and
// hears until the page sets window.rtmDeaf to false: its hello and the
// events handed on meanwhile are lost, as for a tab that opened while no
// tab led.
const deafUntilTold = `window.rtmDeaf = true;
window.BroadcastChannel = class extends window.BroadcastChannel {
  postMessage(m) { if (!window.rtmDeaf) super.postMessage(m); }
  set onmessage(f) { super.onmessage = (e) => { if (!window.rtmDeaf) f(e); }; }
};`

// logSays is JavaScript for the bodies of the open room's messages, in
// order, joined by |.
const logSays = `[...document.querySelectorAll('ol.log li:not(.system) .body')].map(e => e.textContent).join('|')`

// twoTabsAndBob signs ann up in a room bob joins, with a second tab of
// ann's on the room that follows the first one's stream.
func twoTabsAndBob(t *testing.T) (ann, second, bob e2e.Tab, room string) {
	t.Helper()
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	ann = e2e.OpenTab(t, browser, s)
	bob = e2e.OpenTab(t, browser, s)
	ann.Signup("ann")
	room = ann.CreateRoom("lobby")
	ann.WaitLive()
	bob.Signup("bob")
	bob.Join(room)
	bob.WaitLive()
	second = ann.SameProfile()
	second.Do(chromedp.Navigate(s.URL+room), chromedp.WaitVisible(chromedp.ID("composer")))
	second.WaitLive()
	return ann, second, bob, room
}

// A tab whose hello no tab answered (it opened during a hand-over) asks
// again when a new tab leads, and gets what was handed on before it could
// hear: here the new leader is another follower, which kept the events it
// was handed.
func TestATabUnansweredAtHandOverCatchesUp(t *testing.T) {
	ann, second, bob, room := twoTabsAndBob(t)
	late := ann.SameProfile()
	if _, err := chromedp.Call(late.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: deafUntilTold}); err != nil {
		t.Fatal(err)
	}
	late.Do(chromedp.Navigate(late.URL+room), chromedp.WaitVisible(chromedp.ID("composer")))
	late.WaitFor("the late tab loaded", `document.readyState === 'complete'`)

	say(bob, "said while the late tab could not hear")
	second.WaitFor("the message in the following tab", e2e.LogText+`.includes('said while the late tab could not hear')`)
	late.Eval(`window.rtmDeaf = false, ''`)
	if _, err := chromedp.Call(ann.Ctx, page.Close, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	// The lock goes to the tab that asked first.
	second.WaitFor("the following tab leading", isLeader+` && document.documentElement.dataset.stream === 'live'`)
	late.WaitFor("the message said before the hand-over", e2e.LogText+`.includes('said while the late tab could not hear')`)
	say(bob, "said after the hand-over")
	late.WaitFor("the message said after the hand-over", e2e.LogText+`.includes('said after the hand-over')`)
	if says := late.Eval(logSays); says != "said while the late tab could not hear|said after the hand-over" {
		t.Fatalf("the late tab shows %q, want each message once, in order", says)
	}
}

// A following tab whose swap of a handed-on event fails asks the leader
// again for what it lacks, and keeps following: before, its queue of
// swaps stayed failed and the tab never showed another message.
func TestAFollowerWhoseSwapFailedKeepsFollowing(t *testing.T) {
	_, second, bob, _ := twoTabsAndBob(t)
	second.Eval(`(() => {
  const swap = htmx.swap;
  let fail = true;
  htmx.swap = function (...args) {
    if (!fail) return swap.apply(this, args);
    fail = false;
    return Promise.reject(new Error('a swap made to fail by the test'));
  };
  return '';
})()`)
	say(bob, "the first swap of this fails")
	say(bob, "and this one follows")
	second.WaitFor("both messages in the following tab", e2e.LogText+`.includes('and this one follows') && `+e2e.LogText+`.includes('the first swap of this fails')`)
	if says := second.Eval(logSays); says != "the first swap of this fails|and this one follows" {
		t.Fatalf("the following tab shows %q, want each message once, in order", says)
	}
}

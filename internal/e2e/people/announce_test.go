package people

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// An announcement sent in one browser arrives live in another: a new
// conversation appears in the recipient's sidebar, marked unread, and the
// sender's status page counts it delivered and then read as it happens.
func TestAnnouncementArrivesInAnotherBrowser(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	cleo := e2e.OpenTab(t, browser, s)
	dave := e2e.OpenTab(t, browser, s)
	cleoProblems, daveProblems := browsertest.WatchConsole(cleo.Ctx), browsertest.WatchConsole(dave.Ctx)

	cleo.Signup("cleo")
	dave.Signup("dave")
	dave.Eval(`window.notReloaded = 'yes'`)

	cleo.Do(chromedp.Navigate(s.URL + "/announcements"))
	cleo.WaitLive()
	cleo.Do(
		chromedp.SendKeys(chromedp.ID("announce-body"), "Office closed on Friday <i>really</i>"),
		chromedp.SendKeys(chromedp.ID("announce-to"), "dave"),
	)
	cleo.Submit(`.announce button[type=submit]`)
	cleo.WaitFor("the status page", `location.pathname.startsWith('/announcements/')`)
	cleo.WaitLive()
	delivered, read := `document.querySelector('[id$="-delivered"]').textContent`, `document.querySelector('[id$="-read"]').textContent`
	cleo.WaitFor("one delivered", delivered+` === '1'`)
	if got := cleo.Eval(read); got != "0" {
		t.Fatalf("read count %q before dave opened it", got)
	}

	// Dave's open page learns of the new conversation without a reload.
	convo := `document.querySelector('#sidebar a.has-unread')`
	dave.WaitFor("the conversation in the sidebar, unread", convo+` && `+convo+`.textContent.includes('cleo')`)
	if dave.Eval(`window.notReloaded`) != "yes" {
		t.Fatal("dave's page reloaded; the announcement must arrive live")
	}
	dave.Do(chromedp.Click(chromedp.CSS(`#sidebar a.has-unread`)), chromedp.WaitVisible(chromedp.ID("composer")))
	dave.WaitFor("the announcement", e2e.LogText+`.includes('Office closed on Friday <i>really</i>')`)
	if n := dave.Eval(`String(document.querySelectorAll('ol.log .announcement .badge').length)`); n != "1" {
		t.Errorf("%s announcement badges, want 1", n)
	}
	if n := dave.Eval(`String(document.querySelectorAll('ol.log i').length)`); n != "0" {
		t.Errorf("markup in the announcement became %s element(s)", n)
	}

	// Cleo's status page, still open, shows it read: live, per recipient too.
	cleo.WaitFor("one read", read+` === '1'`)
	cleo.WaitFor("dave's row says read", `document.querySelector('tbody td:last-child').innerText.startsWith('Read')`)

	// Dave answers in the conversation; it reaches cleo's sidebar too.
	dave.Send("thanks!")
	cleo.WaitFor("dave's reply marks the conversation", `document.querySelector('#sidebar a.has-unread') !== null`)

	browsertest.Screenshot(t, cleo.Ctx, "announcement-status")
	browsertest.Screenshot(t, dave.Ctx, "announcement-received")
	cleoProblems.Check(t, "cleo")
	daveProblems.Check(t, "dave")
}

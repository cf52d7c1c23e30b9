package main

import (
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
)

// An announcement sent in one browser arrives live in another: a new
// conversation appears in the recipient's sidebar, marked unread, and the
// sender's status page counts it delivered and then read as it happens.
func TestAnnouncementArrivesInAnotherBrowser(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "announce.db"))
	browser := browsertest.Start(t)
	cleo := tab{t, browsertest.User(t, browser), s.url}
	dave := tab{t, browsertest.User(t, browser), s.url}
	cleoProblems, daveProblems := browsertest.WatchConsole(cleo.ctx), browsertest.WatchConsole(dave.ctx)

	cleo.signup("cleo")
	dave.signup("dave")
	dave.eval(`window.notReloaded = 'yes'`)

	cleo.do(chromedp.Navigate(s.url + "/announcements"))
	cleo.waitLive()
	cleo.do(
		chromedp.SendKeys(chromedp.ID("announce-body"), "Office closed on Friday <i>really</i>"),
		chromedp.SendKeys(chromedp.ID("announce-to"), "dave"),
	)
	cleo.submit(`.announce button[type=submit]`)
	cleo.waitFor("the status page", `location.pathname.startsWith('/announcements/')`)
	cleo.waitLive()
	delivered, read := `document.querySelector('[id$="-delivered"]').textContent`, `document.querySelector('[id$="-read"]').textContent`
	cleo.waitFor("one delivered", delivered+` === '1'`)
	if got := cleo.eval(read); got != "0" {
		t.Fatalf("read count %q before dave opened it", got)
	}

	// Dave's open page learns of the new conversation without a reload.
	convo := `document.querySelector('#sidebar a.has-unread')`
	dave.waitFor("the conversation in the sidebar, unread", convo+` && `+convo+`.textContent.includes('cleo')`)
	if dave.eval(`window.notReloaded`) != "yes" {
		t.Fatal("dave's page reloaded; the announcement must arrive live")
	}
	dave.do(chromedp.Click(chromedp.CSS(`#sidebar a.has-unread`)), chromedp.WaitVisible(chromedp.ID("composer")))
	dave.waitFor("the announcement", logText+`.includes('Office closed on Friday <i>really</i>')`)
	if n := dave.eval(`String(document.querySelectorAll('ol.log .announcement .badge').length)`); n != "1" {
		t.Errorf("%s announcement badges, want 1", n)
	}
	if n := dave.eval(`String(document.querySelectorAll('ol.log i').length)`); n != "0" {
		t.Errorf("markup in the announcement became %s element(s)", n)
	}

	// Cleo's status page, still open, shows it read: live, per recipient too.
	cleo.waitFor("one read", read+` === '1'`)
	cleo.waitFor("dave's row says read", `document.querySelector('tbody td:last-child').innerText.startsWith('Read')`)

	// Dave answers in the conversation; it reaches cleo's sidebar too.
	dave.do(chromedp.SendKeys(chromedp.ID("body"), "thanks!\n"))
	cleo.waitFor("dave's reply marks the conversation", `document.querySelector('#sidebar a.has-unread') !== null`)

	browsertest.Screenshot(t, cleo.ctx, "announcement-status")
	browsertest.Screenshot(t, dave.ctx, "announcement-received")
	cleoProblems.Check(t, "cleo")
	daveProblems.Check(t, "dave")
}

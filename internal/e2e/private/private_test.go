package private

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// createPrivate makes a private room through the rooms page's form and
// returns its path.
func createPrivate(tb e2e.Tab, name string) string {
	tb.T.Helper()
	tb.Do(
		chromedp.Navigate(tb.URL+"/rooms"),
		chromedp.SendKeys(chromedp.ID("room-name"), name),
		chromedp.Click(chromedp.CSS(`.create-room input[name=visibility][value=private]`)),
		chromedp.Click(chromedp.CSS(`.create-room button`)),
		chromedp.WaitVisible(chromedp.ID("composer")),
	)
	return tb.Eval(`location.pathname`)
}

// An invite link, opened in another browser profile while signed out,
// leads through logging in back to the invitation; Join opens the room,
// and the two chat live.
func TestInviteLinkJoinsAPrivateRoom(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	anna, ben := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	annaProblems, benProblems := browsertest.WatchConsole(anna.Ctx), browsertest.WatchConsole(ben.Ctx)

	anna.Signup("anna")
	room := createPrivate(anna, "hideout")
	anna.Do(
		chromedp.Click(chromedp.CSS(`a.settings-link`)),
		chromedp.WaitVisible(chromedp.CSS(`.make-link`)),
		chromedp.Click(chromedp.CSS(`.make-link button`)),
		chromedp.WaitVisible(chromedp.ID("new-link")),
	)
	link := anna.Eval(`document.getElementById('new-link').value`)
	if !strings.HasPrefix(link, s.URL+"/invite/") {
		t.Fatalf("invite link %q", link)
	}
	anna.Do(chromedp.Navigate(s.URL+room), chromedp.WaitVisible(chromedp.ID("composer")))
	anna.WaitLive()

	// ben has an account but is signed out.
	ben.SignupForm("ben")
	ben.Submit(`form[action="/logout"] button`)
	ben.Do(chromedp.Navigate(link))
	ben.WaitFor("the log-in form", `location.pathname === '/login'`)
	ben.Do(
		chromedp.SendKeys(chromedp.ID("username"), "ben"),
		chromedp.SendKeys(chromedp.ID("password"), "password-ben"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("join-invite")),
	)
	if got := ben.Eval(`location.href`); got != link {
		t.Fatalf("after logging in ben is at %s, want the invite link", got)
	}
	if got := ben.Eval(`document.querySelector('main h1').innerText`); got != "You are invited to # hideout" {
		t.Fatalf("invitation heading %q", got)
	}
	ben.Do(chromedp.Click(chromedp.ID("join-invite")), chromedp.WaitVisible(chromedp.ID("composer")))
	if got := ben.Eval(`location.pathname`); got != room {
		t.Fatalf("joined into %s, want %s", got, room)
	}
	anna.WaitFor("ben's join line", e2e.LogText+`.includes('ben joined the room')`)
	ben.WaitLive()
	ben.Send("thanks for the link")
	anna.WaitFor("ben's message", e2e.LogText+`.includes('thanks for the link')`)
	annaProblems.Check(t, "anna")
	benProblems.Check(t, "ben")
}

// Removed from a room, a person learns it at once on the page they have
// open: the composer goes, a notice says so, the room leaves the sidebar;
// no reload.
func TestRemovalShowsANoticeLive(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	anna, ben := e2e.OpenTab(t, browser, s), e2e.OpenTab(t, browser, s)
	annaProblems, benProblems := browsertest.WatchConsole(anna.Ctx), browsertest.WatchConsole(ben.Ctx)

	anna.Signup("anna")
	ben.Signup("ben") // waits on the rooms page with a live stream
	room := createPrivate(anna, "hideout")
	anna.Do(
		chromedp.Navigate(s.URL+room+"/settings"),
		chromedp.SendKeys(chromedp.ID("add-username"), "ben"),
		chromedp.Click(chromedp.CSS(`.add-member button`)),
		chromedp.WaitVisible(chromedp.CSS(`.add-member .saved`)),
	)
	// Added, ben sees the room appear in his sidebar without a reload.
	ben.WaitFor("the room in ben's sidebar", `[...document.querySelectorAll('#sidebar a')].some(a => a.textContent.includes('hideout'))`)
	ben.Do(chromedp.Click(chromedp.CSS(`#sidebar a[href="`+room+`"]`)), chromedp.WaitVisible(chromedp.ID("composer")))
	ben.WaitLive()
	ben.Eval(`window.notReloaded = 'yes'`)

	anna.Do(chromedp.Navigate(s.URL+room+"/members"), chromedp.WaitVisible(chromedp.CSS(`form[action$="/remove"] button`)))
	anna.Submit(`form[action$="/remove"] button`)

	ben.WaitFor("the removal notice", `(document.querySelector('.removed-note') || {}).textContent === 'You were removed from #hideout by anna.'`)
	ben.WaitFor("the composer gone", `!document.getElementById('composer') && !document.querySelector('#sidebar a[href="`+room+`"]')`)
	if ben.Eval(`window.notReloaded`) != "yes" {
		t.Fatal("ben's page reloaded; the removal must arrive live")
	}
	annaProblems.Check(t, "anna")
	benProblems.Check(t, "ben")
}

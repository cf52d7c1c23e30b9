package people

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// One person fills in their details; another finds them in the directory,
// sees them online and messages them from their page. Markup typed into a
// bio stays text everywhere.
func TestPeopleDirectoryInTwoBrowsers(t *testing.T) {
	browser := browsertest.Start(t)
	s := e2e.Start(t)
	ann := e2e.OpenTab(t, browser, s) // the first account: an admin
	bob := e2e.OpenTab(t, browser, s)
	annProblems, bobProblems := browsertest.WatchConsole(ann.Ctx), browsertest.WatchConsole(bob.Ctx)
	browsertest.Guard(t, ann.Ctx)
	browsertest.Guard(t, bob.Ctx)

	ann.Signup("ann")
	bob.Signup("bob")

	// Bob opens his own page from his name in the top bar and fills it in.
	bob.Submit(`.whoami a`)
	if got := bob.Eval(`location.pathname`); got != "/people/bob" {
		t.Fatalf("the name in the top bar led to %q, want /people/bob", got)
	}
	const bio = "Builds things that last. <b>not bold</b>"
	details := map[string]string{
		"profile-display_name": "Bob Builder",
		"profile-title":        "Site lead",
		"profile-department":   "Construction",
		"profile-email":        "bob@example.com",
		"profile-phone":        "+33 1 23 45 67 89",
		"profile-timezone":     "Europe/Paris",
		"profile-bio":          bio,
	}
	for id, v := range details {
		bob.Do(chromedp.SetValue(chromedp.ID(id), v))
	}
	bob.Submit(`.profile-form button[type=submit]`)
	bob.WaitFor("the saved notice", `document.getElementById('saved')?.textContent.trim() === 'Details saved.'`)
	if got := bob.Eval(`document.querySelector('h1').textContent`); got != "Bob Builder" {
		t.Errorf("heading %q after saving, want Bob Builder", got)
	}
	shown := bob.Eval(`document.querySelector('section.details').innerText`)
	for _, want := range []string{"Site lead · Construction", "bob@example.com", "+33 1 23 45 67 89", "Europe/Paris", bio} {
		if !strings.Contains(shown, want) {
			t.Errorf("bob's details lack %q:\n%s", want, shown)
		}
	}
	for id, want := range details {
		if got := bob.Eval(`document.getElementById('` + id + `').value`); got != want {
			t.Errorf("form field %s reads %q after saving, want %q", id, got, want)
		}
	}
	if n := bob.Eval(`String(document.querySelectorAll('section.details b').length)`); n != "0" {
		t.Errorf("markup in the bio became %s element(s) on bob's page", n)
	}
	bob.WaitLive() // bob's page holds a stream: he is online
	browsertest.CheckGuard(t, bob.Ctx, "bob's page")
	bob.ScreenshotWhole("person-self", 1280)

	// Ann searches the directory and finds Bob's card.
	ann.Do(chromedp.Navigate(s.URL + "/people"))
	ann.WaitLive()
	browsertest.CheckGuard(t, ann.Ctx, "the directory")
	ann.Do(chromedp.SetValue(chromedp.ID("people-q"), "construction"))
	ann.Submit(`form.search button[type=submit]`)
	if got := ann.Eval(`location.search`); got != "?q=construction" {
		t.Errorf("search address %q", got)
	}
	card := `[...document.querySelectorAll('#people-list > li')].find(li => li.innerText.includes('@bob'))`
	if ann.Eval(`String(Boolean(`+card+`))`) != "true" {
		t.Fatalf("no card for bob: %s", ann.Describe())
	}
	if n := ann.Eval(`String(document.querySelectorAll('#people-list > li').length)`); n != "1" {
		t.Errorf("%s cards match construction, want only bob's", n)
	}
	text := ann.Eval(card + `.innerText`)
	for _, want := range []string{"Bob Builder", "Site lead", "bob@example.com", bio} {
		if !strings.Contains(text, want) {
			t.Errorf("bob's card lacks %q:\n%s", want, text)
		}
	}
	if n := ann.Eval(`String(` + card + `.querySelectorAll('b').length)`); n != "0" {
		t.Errorf("markup in the bio became %s element(s) in bob's card", n)
	}
	if got := ann.Eval(card + `.querySelector('.seen').innerText.trim()`); got != "Online now" {
		t.Errorf("bob, with a page open, is shown as %q, want Online now", got)
	}
	browsertest.CheckGuard(t, ann.Ctx, "the search results")
	ann.Do(chromedp.Navigate(s.URL + "/people"))
	ann.WaitLive()
	ann.ScreenshotWhole("people", 1280)
	ann.ScreenshotWhole("people-narrow", 390)

	// Ann, an admin, opens Bob's page: the admin section lists his changes.
	ann.Do(chromedp.Navigate(s.URL + "/people/bob"))
	ann.WaitLive()
	if ann.Eval(`String(document.getElementById('admin-h') !== null)`) != "true" {
		t.Fatalf("no admin section for ann: %s", ann.Describe())
	}
	audit := ann.Eval(`document.getElementById('audit')?.innerText ?? ''`)
	for _, want := range []string{"Display name", "Bob Builder", "Europe/Paris"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit trail lacks %q:\n%s", want, audit)
		}
	}
	if n := ann.Eval(`String(document.querySelectorAll('main b').length)`); n != "0" {
		t.Errorf("markup in the bio became %s element(s) on ann's view of bob's page", n)
	}
	browsertest.CheckGuard(t, ann.Ctx, "bob's page, as admin")
	ann.ScreenshotWhole("person-admin", 1280)

	// Message leads to a conversation with Bob.
	ann.Submit(`.message-person button[type=submit]`)
	ann.Do(chromedp.WaitVisible(chromedp.ID("composer")))
	if got := ann.Eval(`location.pathname`); !strings.HasPrefix(got, "/rooms/") {
		t.Fatalf("Message led to %q, want a room", got)
	}
	// A direct conversation is headed by the other person: display name and
	// username.
	if got := ann.Eval(`document.querySelector('.room-head').textContent`); !strings.Contains(got, "Bob Builder") || !strings.Contains(got, "@bob") {
		t.Errorf("the conversation is headed %q, want Bob Builder (@bob)", got)
	}
	ann.WaitLive()
	browsertest.CheckGuard(t, ann.Ctx, "the conversation")

	annProblems.Check(t, "ann")
	bobProblems.Check(t, "bob")
}

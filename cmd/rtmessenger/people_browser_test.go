package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/rtmessenger/rtmessenger/internal/browsertest"
)

// One person fills in their details; another finds them in the directory,
// sees them online and messages them from their page. Markup typed into a
// bio stays text everywhere.
func TestPeopleDirectoryInTwoBrowsers(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "people.db"))
	browser := browsertest.Start(t)
	ann := tab{t, browsertest.User(t, browser), s.url} // the first account: an admin
	bob := tab{t, browsertest.User(t, browser), s.url}
	annProblems, bobProblems := browsertest.WatchConsole(ann.ctx), browsertest.WatchConsole(bob.ctx)
	browsertest.Guard(t, ann.ctx)
	browsertest.Guard(t, bob.ctx)

	ann.signup("ann")
	bob.signup("bob")

	// Bob opens his own page from his name in the top bar and fills it in.
	bob.submit(`.whoami a`)
	if got := bob.eval(`location.pathname`); got != "/people/bob" {
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
		bob.do(chromedp.SetValue(chromedp.ID(id), v))
	}
	bob.submit(`.profile-form button[type=submit]`)
	bob.waitFor("the saved notice", `document.getElementById('saved')?.textContent.trim() === 'Details saved.'`)
	if got := bob.eval(`document.querySelector('h1').textContent`); got != "Bob Builder" {
		t.Errorf("heading %q after saving, want Bob Builder", got)
	}
	shown := bob.eval(`document.querySelector('section.details').innerText`)
	for _, want := range []string{"Site lead · Construction", "bob@example.com", "+33 1 23 45 67 89", "Europe/Paris", bio} {
		if !strings.Contains(shown, want) {
			t.Errorf("bob's details lack %q:\n%s", want, shown)
		}
	}
	for id, want := range details {
		if got := bob.eval(`document.getElementById('` + id + `').value`); got != want {
			t.Errorf("form field %s reads %q after saving, want %q", id, got, want)
		}
	}
	if n := bob.eval(`String(document.querySelectorAll('section.details b').length)`); n != "0" {
		t.Errorf("markup in the bio became %s element(s) on bob's page", n)
	}
	bob.waitLive() // bob's page holds a stream: he is online
	browsertest.CheckGuard(t, bob.ctx, "bob's page")
	bob.screenshotWhole("person-self", 1280)

	// Ann searches the directory and finds Bob's card.
	ann.do(chromedp.Navigate(s.url + "/people"))
	ann.waitLive()
	browsertest.CheckGuard(t, ann.ctx, "the directory")
	ann.do(chromedp.SetValue(chromedp.ID("people-q"), "construction"))
	ann.submit(`form.search button[type=submit]`)
	if got := ann.eval(`location.search`); got != "?q=construction" {
		t.Errorf("search address %q", got)
	}
	card := `[...document.querySelectorAll('#people-list > li')].find(li => li.innerText.includes('@bob'))`
	if ann.eval(`String(Boolean(`+card+`))`) != "true" {
		t.Fatalf("no card for bob: %s", ann.describe())
	}
	if n := ann.eval(`String(document.querySelectorAll('#people-list > li').length)`); n != "1" {
		t.Errorf("%s cards match construction, want only bob's", n)
	}
	text := ann.eval(card + `.innerText`)
	for _, want := range []string{"Bob Builder", "Site lead", "bob@example.com", bio} {
		if !strings.Contains(text, want) {
			t.Errorf("bob's card lacks %q:\n%s", want, text)
		}
	}
	if n := ann.eval(`String(` + card + `.querySelectorAll('b').length)`); n != "0" {
		t.Errorf("markup in the bio became %s element(s) in bob's card", n)
	}
	if got := ann.eval(card + `.querySelector('.seen').innerText.trim()`); got != "Online now" {
		t.Errorf("bob, with a page open, is shown as %q, want Online now", got)
	}
	browsertest.CheckGuard(t, ann.ctx, "the search results")
	ann.do(chromedp.Navigate(s.url + "/people"))
	ann.waitLive()
	ann.screenshotWhole("people", 1280)
	ann.screenshotWhole("people-narrow", 390)

	// Ann, an admin, opens Bob's page: the admin section lists his changes.
	ann.do(chromedp.Navigate(s.url + "/people/bob"))
	ann.waitLive()
	if ann.eval(`String(document.getElementById('admin-h') !== null)`) != "true" {
		t.Fatalf("no admin section for ann: %s", ann.describe())
	}
	audit := ann.eval(`document.getElementById('audit')?.innerText ?? ''`)
	for _, want := range []string{"Display name", "Bob Builder", "Europe/Paris"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit trail lacks %q:\n%s", want, audit)
		}
	}
	if n := ann.eval(`String(document.querySelectorAll('main b').length)`); n != "0" {
		t.Errorf("markup in the bio became %s element(s) on ann's view of bob's page", n)
	}
	browsertest.CheckGuard(t, ann.ctx, "bob's page, as admin")
	ann.screenshotWhole("person-admin", 1280)

	// Message leads to a conversation with Bob.
	ann.submit(`.message-person button[type=submit]`)
	ann.do(chromedp.WaitVisible(chromedp.ID("composer")))
	if got := ann.eval(`location.pathname`); !strings.HasPrefix(got, "/rooms/") {
		t.Fatalf("Message led to %q, want a room", got)
	}
	if got := ann.eval(`document.querySelector('h1').textContent`); !strings.Contains(got, "bob") {
		t.Errorf("the conversation is headed %q, want bob named", got)
	}
	ann.waitLive()
	browsertest.CheckGuard(t, ann.ctx, "the conversation")

	annProblems.Check(t, "ann")
	bobProblems.Check(t, "bob")
}

// screenshotWhole saves a screenshot of the page at the given width and as
// tall as its scrolling panel, so nothing below the fold is left out. Like
// browsertest.Screenshot, it does nothing unless $RTM_SCREENSHOTS is set.
func (tb tab) screenshotWhole(name string, width int64) {
	tb.t.Helper()
	if os.Getenv("RTM_SCREENSHOTS") == "" {
		return
	}
	resize := func(height int64) {
		tb.t.Helper()
		params := emulation.SetDeviceMetricsOverrideParams{Width: width, Height: height, DeviceScaleFactor: 1, Mobile: width <= 720}
		if _, err := chromedp.Call(tb.ctx, emulation.SetDeviceMetricsOverride, params); err != nil {
			tb.t.Fatal(err)
		}
	}
	resize(800)
	tall := tb.eval(`String(Math.ceil(Math.max(800, document.querySelector('main').getBoundingClientRect().top + document.querySelector('main').scrollHeight)))`)
	height, err := strconv.ParseInt(tall, 10, 64)
	if err != nil {
		tb.t.Fatal(err)
	}
	resize(height)
	browsertest.Screenshot(tb.t, tb.ctx, name)
	if _, err := chromedp.Call(tb.ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
		tb.t.Fatal(err)
	}
}

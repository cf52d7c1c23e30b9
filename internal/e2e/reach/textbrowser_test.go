package reach

import (
	"regexp"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

var (
	lobbyLink = regexp.MustCompile(`href="(/rooms/\d+)" class="room-name"># <bdi>lobby</bdi>`)
	annaLink  = regexp.MustCompile(`href="(/rooms/\d+)" class="room-name">anna<`)
	olderLink = regexp.MustCompile(`href="(/rooms/\d+/messages\?before=\d+)"`)
	// Screen-reader text that runs into what is around it: a count glued
	// to its word ("1unread"), a label glued to a name ("ben(Offline)").
	gluedText = regexp.MustCompile(`\d(unread|mentioning)|\w\((Online|Away|Offline)\)|\((Online|Away|Offline)\)\w`)
)

// mustRead fails unless page holds every one of wants, and holds no
// screen-reader text shown as garbage: w3m runs no script and no CSS, so
// what the stylesheet hides for the eye (the visually-hidden class) shows.
func mustRead(t *testing.T, what, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Fatalf("%s lacks %q:\n%s", what, w, page)
		}
	}
	if strings.Contains(page, "(new messages)") {
		t.Errorf("%s shows the sidebar's hidden \"(new messages)\":\n%s", what, page)
	}
	if m := gluedText.FindString(page); m != "" {
		t.Errorf("%s shows hidden text run together: %q\n%s", what, m, page)
	}
	// Controls that only the page's script can make work are the
	// script's to show.
	for _, scriptOnly := range []string{"Use WebSocket", "Use Server-Sent Events", "Notify me of"} {
		if strings.Contains(page, scriptOnly) {
			t.Errorf("%s offers %q, which needs script:\n%s", what, scriptOnly, page)
		}
	}
}

// A person with w3m (no script, no CSS) does it all with plain forms
// and links: signs up, joins a room, posts, pages back through its
// history, starts a conversation, searches the directory and logs out;
// the sidebar's unread counts and presence read as words, not as the
// run-together text meant for screen readers.
func TestTextBrowserFlow(t *testing.T) {
	s := e2e.Start(t)
	anna, ben := e2e.OpenNoJS(t, s), e2e.OpenNoJS(t, s)
	anna.Submit("/signup", "Sign up", map[string]string{"username": "anna", "password": "password-anna"})
	anna.Submit("/rooms", "Create room", map[string]string{"name": "lobby", "topic": "all welcome"})
	m := lobbyLink.FindStringSubmatch(anna.Source("/rooms"))
	if m == nil {
		t.Fatal("the lobby is not in anna's list")
	}
	lobby := m[1]
	// More than a page of history, as if posted long ago.
	e2e.PostDirectly(t, s.DB, "anna", "lobby", 60, "old")

	page := ben.Submit("/signup", "Sign up", map[string]string{"username": "ben", "password": "password-ben"})
	mustRead(t, "ben's rooms after signing up", page, "ben", "Log out", "# lobby", "Join")
	page = ben.Submit(lobby, "Join # lobby", nil)
	mustRead(t, "the lobby after joining", page, "ben joined the room", "old 59", "Load older messages", "Send")
	page = ben.Submit(lobby, "Send", map[string]string{"body": "hello from a text browser"})
	mustRead(t, "the lobby after posting", page, "hello from a text browser", "old 59")

	firstOld := regexp.MustCompile(`\bold 0\b`)
	if firstOld.MatchString(page) {
		t.Fatalf("the first page of the lobby already shows its oldest message:\n%s", page)
	}
	m = olderLink.FindStringSubmatch(ben.Source(lobby))
	if m == nil {
		t.Fatal("no link to older messages")
	}
	page = ben.Dump(m[1])
	mustRead(t, "the older messages", page, "Older messages in # lobby", "Back to the latest messages")
	if !firstOld.MatchString(page) {
		t.Fatalf("the older page lacks the lobby's first message:\n%s", page)
	}

	page = ben.Submit("/rooms", "Start conversation", map[string]string{"with": "anna"})
	mustRead(t, "the new conversation", page, "@anna", "Send")
	m = annaLink.FindStringSubmatch(ben.Source("/rooms"))
	if m == nil {
		t.Fatal("the conversation with anna is not in ben's list")
	}
	page = ben.Submit(m[1], "Send", map[string]string{"body": "a word in private"})
	mustRead(t, "the conversation after posting", page, "a word in private")

	page = ben.Submit("/people", "Search", map[string]string{"q": "anna"})
	mustRead(t, "the directory searched for anna", page, "anna @anna")
	if strings.Contains(page, "@ben") {
		t.Errorf("the search for anna lists ben:\n%s", page)
	}

	// Anna finds both unread, counted in words beside each name.
	page = anna.Dump("/rooms")
	mustRead(t, "anna's sidebar", page, "# lobby 1 unread", "ben (Offline) 1 unread", "# lobby 2 members · all welcome")

	page = ben.Submit("/rooms", "Log out", nil)
	mustRead(t, "the page after logging out", page, "Log in")
	if page := ben.Dump("/rooms"); strings.Contains(page, "Log out") || !strings.Contains(page, "Log in") {
		t.Fatalf("after logging out, /rooms shows:\n%s", page)
	}
}

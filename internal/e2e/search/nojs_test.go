package search

import (
	"regexp"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

var hitLink = regexp.MustCompile(`<a href="(/rooms/\d+/messages/\d+)#msg-\d+" class="snippet"`)

// With JavaScript off (w3m), the search form is a plain GET: the hit
// links to its permalink, which shows the message in its room. Someone
// outside the room finds nothing.
func TestSearchWithoutJavaScript(t *testing.T) {
	s := e2e.Start(t)
	anna, ben := e2e.OpenNoJS(t, s), e2e.OpenNoJS(t, s)
	anna.Submit("/signup", "Sign up", map[string]string{"username": "anna", "password": "password-anna"})
	anna.Submit("/rooms", "Create room", map[string]string{"name": "lobby"})
	if page := anna.Dump("/search"); !strings.Contains(page, "All your rooms") || strings.Contains(page, "Nothing found") {
		t.Fatalf("the search form alone:\n%s", page)
	}
	lobby := regexp.MustCompile(`href="(/rooms/\d+)" class="room-name"># <bdi>lobby</bdi>`).FindStringSubmatch(anna.Source("/rooms"))
	if lobby == nil {
		t.Fatal("the lobby is not in anna's list")
	}
	anna.Submit(lobby[1], "Send", map[string]string{"body": "a needle & <thread>"})

	page := anna.Submit("/search", "Search", map[string]string{"q": "needle"})
	if !strings.Contains(page, "a needle & <thread>") {
		t.Fatalf("the hit is not shown as text:\n%s", page)
	}
	m := hitLink.FindStringSubmatch(anna.SubmitSource("/search", "Search", map[string]string{"q": "thread"}))
	if m == nil {
		t.Fatal("no link to the message")
	}
	if page := anna.Dump(m[1]); !strings.Contains(page, "a needle & <thread>") || !strings.Contains(page, "⋯") {
		t.Fatalf("the permalink:\n%s", page)
	}
	// The message's own page, where its "⋯" leads, offers the permalink.
	if page := anna.Dump(strings.SplitN(m[1], "#", 2)[0] + "/actions"); !strings.Contains(page, "Copy link") {
		t.Fatalf("the message's page:\n%s", page)
	}
	if page := anna.Submit("/search", "Search", map[string]string{"q": ""}); !strings.Contains(page, "Type a word to search for.") {
		t.Fatalf("an empty search:\n%s", page)
	}

	ben.Submit("/signup", "Sign up", map[string]string{"username": "ben", "password": "password-ben"})
	if page := ben.Submit("/search", "Search", map[string]string{"q": "needle"}); !strings.Contains(page, "Nothing found") || strings.Contains(page, "thread") {
		t.Fatalf("ben, in no room, sees:\n%s", page)
	}
	if page := ben.Dump(m[1]); strings.Contains(page, "needle") {
		t.Fatalf("ben opens the permalink:\n%s", page)
	}
}

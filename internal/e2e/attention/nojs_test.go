package attention

import (
	"regexp"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

// lineWith returns the line of a w3m dump that contains s, or "".
func lineWith(dump, s string) string {
	for line := range strings.Lines(dump) {
		if strings.Contains(line, s) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// With JavaScript off (w3m), every page load shows the counts, opening a
// room reads it and shows where the new messages begin.
func TestUnreadCountsWithoutJavaScript(t *testing.T) {
	s := e2e.Start(t)
	anna, ben := e2e.OpenNoJS(t, s), e2e.OpenNoJS(t, s)
	anna.Submit("/signup", "Sign up", map[string]string{"username": "anna", "password": "password-anna"})
	anna.Submit("/rooms", "Create room", map[string]string{"name": "lobby", "topic": "hello"})
	m := regexp.MustCompile(`href="(/rooms/\d+)" class="room-name"># <bdi>lobby</bdi>`).FindStringSubmatch(anna.Source("/rooms"))
	if m == nil {
		t.Fatal("the lobby is not in anna's list")
	}
	lobby := m[1]
	ben.Submit("/signup", "Sign up", map[string]string{"username": "ben", "password": "password-ben"})
	ben.Submit(lobby, "Join # lobby", nil)
	if line := lineWith(ben.Dump("/people"), "# lobby"); strings.Contains(line, "unread") {
		t.Fatalf("unread before anything was said: %q", line)
	}

	for _, text := range []string{"one", "two", "over to you @ben"} {
		anna.Submit(lobby, "Send", map[string]string{"body": text})
	}
	for _, page := range []string{"/rooms", "/people", "/mentions"} {
		line := lineWith(ben.Dump(page), "# lobby")
		if !strings.Contains(line, "3 unread") || !strings.Contains(line, "@1 mentioning you") {
			t.Errorf("%s: the lobby reads %q, want 3 unread, 1 mentioning ben", page, line)
		}
	}
	if line := lineWith(anna.Dump("/rooms"), "# lobby"); strings.Contains(line, "unread") {
		t.Errorf("anna's own messages count for her: %q", line)
	}

	room := ben.Dump(lobby)
	newLine, one := strings.Index(room, "New messages"), strings.Index(room, "one")
	if newLine < 0 || newLine > one || newLine < strings.Index(room, "ben joined the room") {
		t.Errorf("the New messages line is not right before the first unread:\n%s", room)
	}
	if line := lineWith(ben.Dump("/rooms"), "# lobby"); strings.Contains(line, "unread") || strings.Contains(line, "mentioning") {
		t.Errorf("after opening the lobby it reads %q", line)
	}
	anna.Submit(lobby, "Send", map[string]string{"body": "four"})
	if line := lineWith(ben.Dump("/rooms"), "# lobby"); !strings.Contains(line, "1 unread") || strings.Contains(line, "mentioning") {
		t.Errorf("after one more: %q", line)
	}
	if page := ben.Dump("/mentions"); !strings.Contains(page, "over to you @ben") {
		t.Errorf("the mentions page:\n%s", page)
	}
}

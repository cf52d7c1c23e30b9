package private

import (
	"regexp"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/e2e"
)

var (
	roomLink   = regexp.MustCompile(`href="(/rooms/\d+)" class="room-name"># <bdi>hideout</bdi>`)
	inviteLink = regexp.MustCompile(`value="https?://[^/"]+(/invite/[A-Za-z0-9_-]+)"`)
)

func mustHave(t *testing.T, what, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Fatalf("%s lacks %q:\n%s", what, w, page)
		}
	}
}

// With JavaScript off (w3m), plain forms do it all: make a private room
// and an invite link; follow the link signed out, log in and come back to
// it, join, post; be removed and find the room gone.
func TestPrivateRoomInviteWithoutJavaScript(t *testing.T) {
	s := e2e.Start(t)
	anna, ben := e2e.OpenNoJS(t, s), e2e.OpenNoJS(t, s)
	anna.Submit("/signup", "Sign up", map[string]string{"username": "anna", "password": "password-anna"})
	page := anna.Submit("/rooms", "Create room", map[string]string{"name": "hideout", "topic": "plans", "visibility": "private"})
	mustHave(t, "the new room", page, "hideout", "private", "Settings", "Send")
	m := roomLink.FindStringSubmatch(anna.Source("/rooms"))
	if m == nil {
		t.Fatal("the room is not in anna's list")
	}
	room := m[1]
	anna.Submit(room, "Send", map[string]string{"body": "only for the invited"})

	created := anna.SubmitSource(room+"/settings", "Make an invite link", nil)
	m = inviteLink.FindStringSubmatch(created)
	if m == nil {
		t.Fatalf("no invite link shown:\n%s", created)
	}
	invite := m[1]
	mustHave(t, "the settings", anna.Dump(room+"/settings"), "By anna, for 1 person more")

	ben.Submit("/signup", "Sign up", map[string]string{"username": "ben", "password": "password-ben"})
	if page := ben.Dump(room); !strings.Contains(page, "No such room") || strings.Contains(page, "hideout") {
		t.Fatalf("before joining, ben sees:\n%s", page)
	}
	ben.Submit("/rooms", "Log out", nil)
	page = ben.Dump(invite)
	mustHave(t, "the signed-out invite link", page, "Log in", "Create an account")
	// The log-in form itself carries the way back (a hidden field).
	page = ben.Submit(invite, "Log in", map[string]string{"username": "ben", "password": "password-ben"})
	mustHave(t, "the invitation after logging in", page, "You are invited to # hideout", "anna invited you", "Join # hideout")
	page = ben.Submit(invite, "Join # hideout", nil)
	mustHave(t, "the room after joining", page, "only for the invited", "ben joined the room", "Send")
	page = ben.Submit(room, "Send", map[string]string{"body": "thanks anna"})
	mustHave(t, "the room after posting", page, "thanks anna")
	if page := ben.Dump(invite); !strings.Contains(page, "thanks anna") {
		t.Fatalf("a member opening the spent link should land in the room:\n%s", page)
	}

	// Removed, ben finds the room gone; the spent link does not let him back.
	page = anna.Submit(room+"/members", "Remove", nil)
	mustHave(t, "the members after the removal", page, "anna")
	if strings.Contains(page, "ben") {
		t.Fatalf("ben is still listed:\n%s", page)
	}
	if page := ben.Dump(room); !strings.Contains(page, "No such room") || strings.Contains(page, "thanks anna") {
		t.Fatalf("after removal, ben sees:\n%s", page)
	}
	if page := ben.Dump(invite); !strings.Contains(page, "expired") {
		t.Fatalf("the spent link after removal:\n%s", page)
	}
}

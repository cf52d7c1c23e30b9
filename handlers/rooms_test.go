package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestCreateAndListRooms(t *testing.T) {
	a := newApp(t)
	alice, bob := a.signup("alice"), a.signup("bob")
	id := alice.createRoom("general")
	res := alice.get(fmt.Sprintf("/rooms/%d", id), nil)
	if res.status != 200 {
		t.Fatalf("room page: %d", res.status)
	}
	mustContain(t, res.body, "# general", "about general", `role="log"`, `aria-live="polite"`, "joined the room", `id="composer"`)

	res = bob.get("/rooms", nil)
	mustContain(t, res.body, "Other rooms", "# <bdi>general</bdi>", fmt.Sprintf(`action="/rooms/%d/join"`, id))

	for _, c := range []struct {
		name   string
		status int
		says   string
	}{
		{"", 422, "Room name is required."},
		{strings.Repeat("x", 65), 422, "the limit is 64"},
		{"GENERAL", 409, "already exists"},
		{"a\u202Eb", 422, "text-direction"},
		{"two\nlines", 422, "single line"},
	} {
		res := alice.post("/rooms", url.Values{"name": {c.name}}, nil)
		if res.status != c.status || !strings.Contains(res.body, c.says) {
			t.Errorf("create %q: %d, want %d saying %q", c.name, res.status, c.status, c.says)
		}
	}
}

func TestJoinAndLeave(t *testing.T) {
	a := newApp(t)
	alice, bob := a.signup("alice"), a.signup("bob")
	id := alice.createRoom("general")
	room := fmt.Sprintf("/rooms/%d", id)

	res := bob.get(room, nil)
	mustContain(t, res.body, "Join this room to read")
	mustNotContain(t, res.body, `role="log"`, `id="composer"`)
	if res := bob.get(room+"/messages?before=999", nil); res.status != http.StatusForbidden {
		t.Errorf("non-member history: %d", res.status)
	}

	if res := bob.post(room+"/join", nil, nil); res.status != http.StatusSeeOther || res.location != room {
		t.Fatalf("join: %d %s", res.status, res.location)
	}
	res = bob.get(room, nil)
	mustContain(t, res.body, "bob</strong> joined the room", "2 members", `id="composer"`)

	if res := bob.post(room+"/leave", nil, nil); res.status != http.StatusSeeOther || res.location != "/rooms" {
		t.Fatalf("leave: %d %s", res.status, res.location)
	}
	mustContain(t, alice.get(room, nil).body, "bob</strong> left the room", "1 member")
	if res := bob.post(room+"/messages", url.Values{"body": {"still here?"}}, htmx); res.status != http.StatusForbidden {
		t.Fatalf("post after leaving: %d", res.status)
	}
	for _, path := range []string{"/rooms/999/join", "/rooms/abc/join", "/rooms/-1/leave"} {
		if res := bob.post(path, nil, nil); res.status != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, res.status)
		}
	}
}

func TestMembersAndRemoval(t *testing.T) {
	a := newApp(t)
	admin := a.signup("root") // the first account is the admin
	alice, bob, carol := a.signup("alice"), a.signup("bob"), a.signup("carol")
	id := alice.createRoom("club")
	room := fmt.Sprintf("/rooms/%d", id)
	for _, b := range []*browser{bob, carol} {
		b.post(room+"/join", nil, nil)
	}
	remove := func(b *browser, who *browser) result {
		return b.post(fmt.Sprintf("%s/members/%d/remove", room, who.user().ID), nil, nil)
	}

	page := alice.get(room+"/members", nil)
	mustContain(t, page.body, "<strong>alice</strong> <span class=\"badge\">creator</span>", "bob</strong>", "carol</strong>", "Remove")
	if strings.Count(page.body, ">Remove<") != 2 {
		t.Errorf("the creator should see 2 remove buttons (not one for herself)")
	}
	mustNotContain(t, bob.get(room+"/members", nil).body, ">Remove<")
	if res := a.signup("dave").get(room+"/members", nil); res.status != http.StatusForbidden {
		t.Errorf("non-member sees members: %d", res.status)
	}
	if res := admin.get(room+"/members", nil); res.status != 200 {
		t.Errorf("admin members page: %d", res.status)
	}

	if res := remove(bob, carol); res.status != http.StatusForbidden {
		t.Errorf("a plain member removed someone: %d", res.status)
	}
	if res := remove(alice, alice); res.status != 422 {
		t.Errorf("removing oneself: %d", res.status)
	}
	if res := remove(alice, bob); res.status != http.StatusSeeOther {
		t.Fatalf("creator removes bob: %d %s", res.status, res.body)
	}
	if res := remove(alice, bob); res.status != http.StatusNotFound {
		t.Errorf("removing a non-member: %d", res.status)
	}
	if res := remove(admin, carol); res.status != http.StatusSeeOther {
		t.Errorf("admin removes carol: %d", res.status)
	}
	mustContain(t, alice.get(room, nil).body, "bob</strong> was removed by alice", "carol</strong> was removed by root", "1 member")
	if res := bob.post(room+"/messages", url.Values{"body": {"still here?"}}, htmx); res.status != http.StatusForbidden {
		t.Errorf("removed member posts: %d", res.status)
	}
	if res := alice.post(room+"/members/999/remove", nil, nil); res.status != http.StatusNotFound {
		t.Errorf("removing an unknown user: %d", res.status)
	}
}

package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/hub"
)

// A form posted without script that is refused never leaves the browser on
// the post: it is sent on to a page (a GET) showing what was typed and
// why, again when reloaded, only at that address and only to the person
// who typed it. Every form checked here posts to an address with no page
// of its own.
func TestRefusedFormsComeBackOnAPage(t *testing.T) {
	a := newApp(t)
	alice, bob := a.signup("alice"), a.signup("bob")
	room := roomPath(alice.createRoom("general"))
	bob.post(room+"/join", nil, nil)
	hideout := roomPath(alice.createPrivate("hideout"))
	long := strings.Repeat("é", 4100)

	for _, c := range []struct {
		name, path string
		form       url.Values
		page       string // where the refusal is shown, before ?kept=
		shows      []string
	}{
		{"composer", room + "/messages", url.Values{"body": {long}, "client_id": {"retry-me"}}, room,
			[]string{"Message is too long: 4100 characters, the limit is 4000.", long + "</textarea>", `name="client_id" value="retry-me"`, `aria-invalid="true"`}},
		{"start a conversation", "/dm", url.Values{"with": {"bob, zoe"}}, "/rooms",
			[]string{"zoe", `value="bob, zoe"`}},
		{"add a member", hideout + "/members", url.Values{"username": {"nobody"}}, hideout + "/settings",
			[]string{"Nobody active has the username", `value="nobody"`}},
		{"make an invite link", hideout + "/invites", url.Values{"expires": {"5"}, "uses": {"1"}}, hideout + "/settings",
			[]string{"Choose how long the link works"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := alice.post(c.path, c.form, nil)
			if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, c.page+"?kept=") {
				t.Fatalf("refused post: %d to %q, want 303 to %s?kept=…\n%.300s", res.status, res.location, c.page, res.body)
			}
			for _, try := range []string{"first", "reload"} {
				page := alice.get(res.location, nil)
				if page.status != http.StatusOK {
					t.Fatalf("%s: %d", try, page.status)
				}
				mustContain(t, page.body, c.shows...)
			}
			mustNotContain(t, alice.get(c.page, nil).body, c.shows[0])
			mustNotContain(t, bob.get(res.location, nil).body, c.shows[0])
		})
	}
}

// A refused composer keeps its client id, so sending the text again,
// shortened, stores it once however often it goes; once it is sent, Back
// to the refusal shows the room without the old text.
func TestKeptComposerIsForgottenOnceSent(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := roomPath(alice.createRoom("general"))
	res := alice.post(room+"/messages", url.Values{"body": {strings.Repeat("x", 4001)}, "client_id": {"cid-1"}}, nil)
	refused := res.location
	mustContain(t, alice.get(refused, nil).body, `value="cid-1"`, "the limit is 4000")
	for range 2 {
		if res := alice.post(room+"/messages", url.Values{"body": {"shorter now"}, "client_id": {"cid-1"}}, nil); res.status != http.StatusSeeOther || res.location != room {
			t.Fatalf("resend: %d to %q", res.status, res.location)
		}
	}
	if n := strings.Count(alice.get(room, nil).body, "shorter now"); n != 1 {
		t.Fatalf("the message shows %d times, want once", n)
	}
	mustNotContain(t, alice.get(refused, nil).body, "the limit is 4000", `value="cid-1"`)
}

// A refusal is shown again for a while (a reload, Back), not for ever.
func TestKeptRefusalsExpire(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).Unix())
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) { d.Now = func() time.Time { return time.Unix(now.Load(), 0) } })
	alice := a.signup("alice")
	res := alice.post("/dm", url.Values{"with": {"zoe"}}, nil)
	mustContain(t, alice.get(res.location, nil).body, `value="zoe"`)
	now.Add(int64(keptFor/time.Second) + 1)
	mustNotContain(t, alice.get(res.location, nil).body, `value="zoe"`)
}

// Sessions that keep a refusal still sign in, and still end.
func TestKeptRefusalLivesInTheSession(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	res := alice.post("/dm", url.Values{"with": {"zoe"}}, nil)
	if page := alice.get(res.location, nil); page.status != http.StatusOK || !strings.Contains(page.body, "data-user=") {
		t.Fatalf("the page after a refusal: %d", page.status)
	}
	alice.post("/logout", nil, nil)
	if page := alice.get(res.location, nil); page.status != http.StatusSeeOther {
		t.Fatalf("after logging out: %d, want 303 to log in", page.status)
	}
}

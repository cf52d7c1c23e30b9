package handlers

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestDirectConversationIsFoundAgainAndLive(t *testing.T) {
	a := newApp(t)
	alice, bob, carol := a.signup("alice"), a.signup("bob"), a.signup("carol")
	bs, cs := bob.open("", nil), carol.open("", nil)
	a.waitConns(2)

	res := alice.post("/dm", url.Values{"with": {"Bob"}}, nil)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/rooms/") {
		t.Fatalf("POST /dm: %d %q\n%s", res.status, res.location, res.body)
	}
	dm := res.location
	for _, again := range []result{alice.post("/dm", url.Values{"with": {"bob"}}, nil), bob.post("/dm", url.Values{"with": {"alice"}}, nil)} {
		if again.location != dm {
			t.Errorf("starting the same conversation again went to %q, want %q", again.location, dm)
		}
	}
	page := alice.get(dm, nil)
	// The header names the other person and whether they are here, not
	// a member count.
	mustContain(t, page.body, "<h1><bdi>bob</bdi></h1>", `<a href="/people/bob">@bob</a>`, "Online now", `placeholder="Message bob"`)
	mustNotContain(t, page.body, "Leave conversation", "Leave room", "2 members")

	// bob's stream was open before the conversation existed; it carries it.
	alice.post(dm+"/messages", url.Values{"body": {"just between us"}}, htmx)
	if ev := bs.next(); !strings.Contains(ev.Data, "just between us") {
		t.Fatalf("bob's stream: %q", ev.Data)
	}
	carol.createRoom("marker") // carol's next event must be her own room's, not the conversation
	if ev := cs.next(); strings.Contains(ev.Data, "just between us") {
		t.Fatal("carol's stream carried a conversation she is not in")
	}
	side := bob.get("/sidebar?current=1&path=/rooms", htmx)
	mustContain(t, side.body, `id="sidebar"`, `">alice <span class="unread">`, "Conversations")
	if res := bob.post(dm+"/leave", nil, nil); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "cannot be left") {
		t.Errorf("leaving a direct conversation: %d", res.status)
	}
}

func TestGroupConversationAndItsErrors(t *testing.T) {
	a := newApp(t)
	alice, bob := a.signup("alice"), a.signup("bob")
	a.signup("carol")
	res := alice.post("/dm", url.Values{"with": {"bob", "carol"}}, nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("group: %d\n%s", res.status, res.body)
	}
	group := res.location
	mustContain(t, bob.get(group, nil).body, "<h1>alice, carol</h1>", "Leave conversation")
	if res := bob.post(group+"/leave", nil, nil); res.status != http.StatusSeeOther {
		t.Fatalf("leaving a group: %d", res.status)
	}
	if res := bob.get(group, nil); res.status != http.StatusNotFound {
		t.Errorf("a group one left is gone for them: %d", res.status)
	}
	mustContain(t, alice.get(group, nil).body, "<h1>carol</h1>", "bob</strong> left")

	// Refused: the rooms page shows the form as typed and why (a GET, so a
	// reload posts nothing; kept_test.go).
	for _, tc := range []struct{ with, says string }{
		{"", "at least one person"},
		{"alice", "at least one other person"},
		{"bob, nobody-here", "nobody-here"},
		{"<script>", "&lt;script&gt;"},
	} {
		res := alice.post("/dm", url.Values{"with": {tc.with}}, nil)
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/rooms?kept=") {
			t.Errorf("with %q: %d to %q, want 303 to the rooms page", tc.with, res.status, res.location)
			continue
		}
		res = alice.get(res.location, nil)
		if res.status != http.StatusOK || !strings.Contains(res.body, tc.says) {
			t.Errorf("with %q: %d, want 200 saying %q\n%.400s", tc.with, res.status, tc.says, res.body)
		}
		if tc.with != "" && !strings.Contains(res.body, fmt.Sprintf(`value="%s"`, html.EscapeString(tc.with))) {
			t.Errorf("with %q: the form lost what was typed", tc.with)
		}
	}
}

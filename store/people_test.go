package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

func TestDirectorySearchSortsAndPages(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	admin := mustUser(t, s, "admin")
	for i, p := range []chat.Profile{
		{DisplayName: "Zoë Quinn", Title: "Engineer", Department: "Platform"},
		{DisplayName: "adam 100%", Title: "Designer", Department: "Design"},
		{Title: "Sales lead", Department: "Sales_EU"},
	} {
		u := mustUser(t, s, fmt.Sprintf("user%d", i))
		if _, err := s.UpdateProfile(ctx, u.Name, p, u); err != nil {
			t.Fatal(err)
		}
	}
	names := func(q chat.PeopleQuery) string {
		t.Helper()
		if q.Limit == 0 {
			q.Limit = 10
		}
		people, err := s.People(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range people {
			out = append(out, p.Name)
		}
		return fmt.Sprint(out)
	}
	cases := []struct {
		q    chat.PeopleQuery
		want string
	}{
		{chat.PeopleQuery{}, "[user1 admin user2 user0]"}, // by the name shown: adam, admin, user2, Zoë
		{chat.PeopleQuery{Search: "ENGINEER"}, "[user0]"},
		{chat.PeopleQuery{Search: "platform"}, "[user0]"},
		{chat.PeopleQuery{Search: "zo"}, "[user0]"},
		{chat.PeopleQuery{Search: "user2"}, "[user2]"},
		{chat.PeopleQuery{Search: "100%"}, "[user1]"},
		{chat.PeopleQuery{Search: "%"}, "[user1]"}, // a literal percent sign, not a wildcard
		{chat.PeopleQuery{Search: "s_eu"}, "[user2]"},
		{chat.PeopleQuery{Search: "_"}, "[user2]"},
		{chat.PeopleQuery{Search: "nobody"}, "[]"},
		{chat.PeopleQuery{Limit: 2}, "[user1 admin]"},
		{chat.PeopleQuery{Limit: 2, Offset: 2}, "[user2 user0]"},
	}
	for _, c := range cases {
		if got := names(c.q); got != c.want {
			t.Errorf("%+v: got %s, want %s", c.q, got, c.want)
		}
	}

	if _, err := s.SetDeactivated(ctx, "user2", true, admin); err != nil {
		t.Fatal(err)
	}
	if got := names(chat.PeopleQuery{Search: "sales"}); got != "[]" {
		t.Errorf("deactivated person listed: %s", got)
	}
	if got := names(chat.PeopleQuery{Search: "sales", Deactivated: true}); got != "[user2]" {
		t.Errorf("admins' listing lacks the deactivated person: %s", got)
	}
}

func TestUpdateProfileKeepsAnAuditTrail(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	admin, ann, bob := mustUser(t, s, "admin"), mustUser(t, s, "ann"), mustUser(t, s, "bob")

	p := chat.Profile{DisplayName: "Ann", Email: "ann@example.com"}
	if _, err := s.UpdateProfile(ctx, "ANN", p, ann); err != nil {
		t.Fatal(err)
	}
	p.Email, p.Title = "ann@example.org", "CTO"
	if _, err := s.UpdateProfile(ctx, "ann", p, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateProfile(ctx, "ann", chat.Profile{Title: "Intern"}, bob); chat.CodeOf(err) != chat.Forbidden {
		t.Fatalf("bob edited ann's details: %v", err)
	}
	got, err := s.Person(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	if got.Profile != p {
		t.Fatalf("profile = %+v, want %+v", got.Profile, p)
	}
	changes, err := s.ProfileChanges(ctx, "ann", 10)
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, c := range changes {
		trail = append(trail, fmt.Sprintf("%s:%s:%q->%q", c.By, c.Field, c.Old, c.New))
	}
	want := `[admin:email:"ann@example.com"->"ann@example.org" admin:title:""->"CTO" ann:email:""->"ann@example.com" ann:display_name:""->"Ann"]`
	if fmt.Sprint(trail) != want {
		t.Fatalf("audit trail (newest first):\n got %s\nwant %s", trail, want)
	}
	if _, err := s.Person(ctx, "nobody"); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("unknown person: %v", err)
	}
}

func TestDeactivationIsAdminOnlyAuditedAndCached(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	admin, ann := mustUser(t, s, "admin"), mustUser(t, s, "ann")
	if _, err := s.UserByID(ctx, ann.ID); err != nil { // warm the cache
		t.Fatal(err)
	}
	if _, err := s.SetDeactivated(ctx, "admin", true, ann); chat.CodeOf(err) != chat.Forbidden {
		t.Fatalf("non-admin deactivated someone: %v", err)
	}
	if _, err := s.SetDeactivated(ctx, "admin", true, admin); chat.CodeOf(err) != chat.Invalid {
		t.Fatalf("admin deactivated themself: %v", err)
	}
	if _, err := s.SetDeactivated(ctx, "ann", true, admin); err != nil {
		t.Fatal(err)
	}
	u, err := s.UserByID(ctx, ann.ID)
	if err != nil || !u.Deactivated {
		t.Fatalf("after deactivation UserByID = %+v, %v", u, err)
	}
	if u, _, err := s.UserByName(ctx, "ann"); err != nil || !u.Deactivated {
		t.Fatalf("after deactivation UserByName = %+v, %v", u, err)
	}
	if _, err := s.StartConversation(ctx, admin, []string{"ann"}); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("conversation with a deactivated person: %v", err)
	}
	if _, err := s.SetDeactivated(ctx, "ann", false, admin); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.UserByID(ctx, ann.ID); u.Deactivated {
		t.Fatal("reactivated account still deactivated in the cache")
	}
	changes, _ := s.ProfileChanges(ctx, "ann", 10)
	if len(changes) != 2 || changes[0].New != "active" || changes[1].New != "deactivated" || changes[1].Field != "account" {
		t.Fatalf("account changes not audited: %+v", changes)
	}
}

func TestLastSeenOnlyMovesForward(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	ann := mustUser(t, s, "ann")
	if p, _ := s.Person(ctx, "ann"); !p.LastSeen.IsZero() {
		t.Fatalf("new account seen at %v", p.LastSeen)
	}
	t1 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{t1, t1.Add(-time.Hour)} {
		if err := s.TouchLastSeen(ctx, ann.ID, at); err != nil {
			t.Fatal(err)
		}
	}
	if p, _ := s.Person(ctx, "ann"); !p.LastSeen.Equal(t1) {
		t.Fatalf("last seen %v, want %v", p.LastSeen, t1)
	}
}

func TestImportIsAllOrNothingAndLinksWorkOnce(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	admin, ann := mustUser(t, s, "admin"), mustUser(t, s, "ann")
	rows := []chat.ImportRow{
		{Line: 2, Username: "dana", Profile: chat.Profile{DisplayName: "Dana", Email: "dana@example.com", Department: "Ops"}},
		{Line: 3, Username: "ANN", Profile: chat.Profile{DisplayName: "Another Ann"}},
		{Line: 5, Username: "eve"},
	}
	if _, _, err := s.ImportPeople(ctx, rows, ann); chat.CodeOf(err) != chat.Forbidden {
		t.Fatalf("non-admin import: %v", err)
	}
	invites, rowErrs, err := s.ImportPeople(ctx, rows, admin)
	if err != nil || len(invites) != 0 || len(rowErrs) != 1 || rowErrs[0].Line != 3 {
		t.Fatalf("import with a taken username: %v %v %v", invites, rowErrs, err)
	}
	if _, err := s.Person(ctx, "dana"); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("a refused import left dana behind: %v", err)
	}

	invites, rowErrs, err = s.ImportPeople(ctx, []chat.ImportRow{rows[0], rows[2]}, admin)
	if err != nil || len(rowErrs) != 0 || len(invites) != 2 {
		t.Fatalf("import: %v %v %v", invites, rowErrs, err)
	}
	dana, err := s.Person(ctx, "dana")
	if err != nil || dana.Profile != rows[0].Profile || dana.Admin {
		t.Fatalf("imported dana = %+v, %v", dana, err)
	}
	if _, hash, _ := s.UserByName(ctx, "dana"); hash != "" {
		t.Fatalf("imported account has a password hash %q before its link is used", hash)
	}
	if changes, _ := s.ProfileChanges(ctx, "dana", 10); len(changes) != 3 || changes[0].By != "admin" {
		t.Fatalf("import not audited: %+v", changes)
	}

	link := invites[0].Token
	if u, err := s.SignInLinkUser(ctx, link); err != nil || u.Name != "dana" {
		t.Fatalf("link user = %+v, %v", u, err)
	}
	if _, err := s.UseSignInLink(ctx, link, "hash-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseSignInLink(ctx, link, "hash-2"); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("a link worked twice: %v", err)
	}
	if _, hash, _ := s.UserByName(ctx, "dana"); hash != "hash-1" {
		t.Fatalf("password hash = %q", hash)
	}
	if _, err := s.SignInLinkUser(ctx, "forged-token"); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("forged link: %v", err)
	}

	// A new link replaces the unused old one; a deactivated person's link is dead.
	again, err := s.CreateSignInLink(ctx, "eve", admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignInLinkUser(ctx, invites[1].Token); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("replaced link still works: %v", err)
	}
	if _, err := s.SetDeactivated(ctx, "eve", true, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseSignInLink(ctx, again.Token, "x"); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("deactivated person's link worked: %v", err)
	}
}

func TestSignInLinksExpire(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t, Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	admin := mustUser(t, s, "admin")
	mustUser(t, s, "ann")
	inv, err := s.CreateSignInLink(ctx, "ann", admin)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(chat.SignInLinkLifetime + time.Second)
	if _, err := s.UseSignInLink(ctx, inv.Token, "x"); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("expired link worked: %v", err)
	}
}

func TestDeleteSessionsOf(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for _, tok := range []string{"ann-1", "ann-2", "bob-1"} {
		if err := s.Sessions().CommitCtx(ctx, tok, []byte(tok[:3]), exp); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteSessionsOf(ctx, func(data []byte) bool { return string(data) == "ann" })
	if err != nil || n != 2 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	for tok, want := range map[string]bool{"ann-1": false, "ann-2": false, "bob-1": true} {
		if _, found, _ := s.Sessions().FindCtx(ctx, tok); found != want {
			t.Errorf("session %s found = %v", tok, found)
		}
	}
}

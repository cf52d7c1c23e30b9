package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/pgtest"
	"github.com/rtmessenger/rtmessenger/internal/poll"
	"github.com/rtmessenger/rtmessenger/store"
)

// admin runs `rtmessenger admin` in-process on db with args, stdin
// holding input; it fails the test on an error.
func admin(t *testing.T, db, input string, args ...string) string {
	t.Helper()
	out, err := tryAdmin(db, input, args...)
	if err != nil {
		t.Fatalf("admin %v: %v\n%s", args, err, out)
	}
	return out
}

func tryAdmin(db, input string, args ...string) (string, error) {
	var out bytes.Buffer
	err := adminCmd(context.Background(), append([]string{"-db", db}, args...), strings.NewReader(input), &out)
	return out.String(), err
}

// The commands against a running server: what they change, the server
// sees (its cache does not hide it), and open streams of an account
// deactivated on the command line end at once, not at their next
// heartbeat (an hour away here).
func TestAdminCommandsWithTheServerRunning(t *testing.T) {
	db := filepath.Join(t.TempDir(), "live.db")
	s := startServer(t, db, "-heartbeat", "1h")
	anna, ben := s.signup("anna"), s.signup("ben")

	if got := ben.status("/people/import"); got != http.StatusForbidden {
		t.Fatalf("ben, not an admin, got %d from an admin page", got)
	}
	if out := admin(t, db, "", "grant-admin", "ben"); out != "ben is an admin\n" {
		t.Fatalf("grant-admin said %q", out)
	}
	poll.Until(t, "the server to see ben as an admin", func() bool { return ben.status("/people/import") == http.StatusOK })
	admin(t, db, "", "revoke-admin", "ben")
	poll.Until(t, "the server to see ben as no admin", func() bool { return ben.status("/people/import") == http.StatusForbidden })

	stream := ben.stream("")
	if out := admin(t, db, "", "deactivate", "ben"); !strings.Contains(out, "ben is deactivated; 1 sessions ended") {
		t.Fatalf("deactivate said %q", out)
	}
	if !stream.bg.Ended(poll.Limit) {
		t.Fatal("the stream of a deactivated account stays open")
	}
	poll.Until(t, "ben to be signed out", func() bool { return ben.status("/rooms") == http.StatusSeeOther })
	if ben.login("secret-ben") {
		t.Fatal("a deactivated account signed in")
	}
	admin(t, db, "", "reactivate", "ben")
	if !ben.login("secret-ben") {
		t.Fatal("a reactivated account cannot sign in")
	}

	if out := admin(t, db, "", "end-sessions", "anna"); out != "1 sessions of anna ended\n" {
		t.Fatalf("end-sessions said %q", out)
	}
	poll.Until(t, "anna to be signed out", func() bool { return anna.status("/rooms") == http.StatusSeeOther })

	// Anna forgot her password: a sign-in link lets her choose another.
	out := admin(t, db, "", "-public-url", s.url+"/", "sign-in-link", "anna")
	link := out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]
	link = strings.TrimSpace(link)
	if !strings.HasPrefix(link, s.url+"/welcome/") {
		t.Fatalf("sign-in-link said %q", out)
	}
	if loc := anna.postTo(link, url.Values{"password": {"a brand new password"}}); loc != "/rooms" {
		t.Fatalf("using the link redirected to %q", loc)
	}
	if anna.status("/rooms") != http.StatusOK || !anna.login("a brand new password") {
		t.Fatal("the new password does not sign in")
	}

	// A new admin, with the password on standard input.
	if out := admin(t, db, "a long password\n", "create-admin", "dora"); !strings.Contains(out, "created dora") {
		t.Fatalf("create-admin said %q", out)
	}
	dora := s.newcomer("dora")
	if !dora.login("a long password") || dora.status("/people/import") != http.StatusOK {
		t.Fatal("the created admin cannot sign in as an admin")
	}
}

func TestAdminCommandsRefuseBadInput(t *testing.T) {
	db := adminTestDB(t)
	short := filepath.Join(t.TempDir(), "short")
	os.WriteFile(short, []byte("short\n"), 0o600)
	for _, tc := range []struct {
		args  []string
		input string
		want  string
	}{
		{nil, "", "which command"},
		{[]string{"make-coffee"}, "", `no command "make-coffee"`},
		{[]string{"deactivate"}, "", "takes one argument"},
		{[]string{"rooms", "extra"}, "", "takes no argument"},
		{[]string{"deactivate", "nobody"}, "", `Nobody has the username "nobody"`},
		{[]string{"grant-admin", "nobody"}, "", `Nobody has the username "nobody"`},
		{[]string{"end-sessions", "nobody"}, "", `Nobody has the username "nobody"`},
		{[]string{"sign-in-link", "alice"}, "", "-public-url is required"},
		{[]string{"-public-url", "https://chat.example.com", "sign-in-link", "nobody"}, "", `Nobody has the username "nobody"`},
		{[]string{"create-admin", "alice"}, "long enough password\n", "is taken"},
		{[]string{"create-admin", "x"}, "long enough password\n", "Username must be"},
		{[]string{"create-admin", "erin"}, "", "no password"},
		{[]string{"-password-file", short, "create-admin", "erin"}, "", "at least 8"},
		{[]string{"members", "nowhere"}, "", `no room is named "nowhere"`},
		{[]string{"members", "secret"}, "", "2 rooms are named"},
	} {
		if out, err := tryAdmin(db, tc.input, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("admin %v: %v (%q); want an error saying %q", tc.args, err, out, tc.want)
		}
	}
	missing := filepath.Join(t.TempDir(), "missing.db")
	if _, err := tryAdmin(missing, "", "rooms"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("admin on a missing file: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("admin on a missing file created it")
	}
	if err := adminCmd(context.Background(), []string{"rooms"}, strings.NewReader(""), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "-db is required") {
		t.Errorf("admin without -db: %v", err)
	}
}

func TestAdminRoomsAndMembers(t *testing.T) {
	db := adminTestDB(t)
	out := admin(t, db, "", "rooms")
	for _, want := range []string{"general", "secret", "public", "private", "(3 rooms; conversations are not listed)"} {
		if !strings.Contains(out, want) {
			t.Fatalf("rooms said %q; want %q in it", out, want)
		}
	}
	if line := lineWith(out, "general"); !strings.Contains(line, " 2 ") {
		t.Fatalf("general's line %q does not count 2 members", line)
	}
	out = admin(t, db, "", "members", "General")
	if !strings.Contains(out, "general (id 1, public): 2 members") || !strings.Contains(lineWith(out, "alice"), "site admin") || lineWith(out, "bob") == "" {
		t.Fatalf("members said %q", out)
	}
	if byID := admin(t, db, "", "members", "1"); byID != out {
		t.Fatalf("members by id said %q, by name %q", byID, out)
	}
}

// The store abstraction makes the commands work on PostgreSQL as well.
func TestAdminCommandsOnPostgres(t *testing.T) {
	db := pgtest.URL(t)
	st, err := openStore(t.Context(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustSetUp(t, st)
	st.Close()
	admin(t, db, "a long password\n", "create-admin", "dora")
	if out := admin(t, db, "", "deactivate", "bob"); !strings.Contains(out, "bob is deactivated") {
		t.Fatalf("deactivate said %q", out)
	}
	if out := admin(t, db, "", "rooms"); !strings.Contains(out, "general") {
		t.Fatalf("rooms said %q", out)
	}
}

// adminTestDB is an SQLite database with alice (the admin), bob, a public
// room both are in and two private rooms of one name.
func adminTestDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "admin.db")
	st, err := store.Open(t.Context(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mustSetUp(t, st)
	return db
}

func mustSetUp(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := t.Context()
	alice, err := st.CreateUser(ctx, "alice", "x")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := st.CreateUser(ctx, "bob", "x")
	if err != nil {
		t.Fatal(err)
	}
	room, err := st.CreateRoom(ctx, alice, "general", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Join(ctx, room.ID, bob); err != nil {
		t.Fatal(err)
	}
	for _, by := range []string{"alice", "bob"} {
		u := alice
		if by == "bob" {
			u = bob
		}
		if _, err := st.CreatePrivateRoom(ctx, u, "secret", ""); err != nil {
			t.Fatal(err)
		}
	}
}

func lineWith(s, word string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, word) {
			return line
		}
	}
	return ""
}

// status GETs path as p and returns the status (redirects not followed).
func (p *person) status(path string) int {
	p.s.t.Helper()
	resp, err := p.c.Get(p.s.url + path)
	if err != nil {
		p.s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// login signs p in with password and reports whether it worked.
func (p *person) login(password string) bool {
	p.s.t.Helper()
	return p.postTo(p.s.url+"/login", url.Values{"username": {p.name}, "password": {password}}) == "/rooms"
}

// postTo posts a form to a full address and returns where it redirects
// ("" if it does not).
func (p *person) postTo(addr string, form url.Values) string {
	p.s.t.Helper()
	resp, err := p.c.PostForm(addr, form)
	if err != nil {
		p.s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Location")
}

// newcomer is someone with no session yet, for an account made elsewhere.
func (s *server) newcomer(name string) *person {
	jar, _ := cookiejar.New(nil)
	p := &person{s: s, name: name, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	s.t.Cleanup(p.c.CloseIdleConnections)
	return p
}

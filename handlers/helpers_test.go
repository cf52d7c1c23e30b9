package handlers

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/store"
)

// cheap keeps password hashing fast in tests; production uses OWASP's cost.
var cheap = PasswordParams{MemoryKiB: 64, Passes: 1, Lanes: 1}

// migrated holds a database the migrations ran on once for the whole test
// binary: each app opens a copy (as a server opens its database again
// after a restart), not a fresh file to migrate. Migrating took a fifth of
// the handler tests' time.
var migrated struct {
	once sync.Once
	body []byte // the database file
	err  error
}

// migratedDB writes a copy of the migrated database into the test's own
// directory and returns its path.
func migratedDB(t *testing.T) string {
	t.Helper()
	migrated.once.Do(func() { migrated.body, migrated.err = migrate() })
	if migrated.err != nil {
		t.Fatal(migrated.err)
	}
	path := filepath.Join(t.TempDir(), "app.db")
	if err := os.WriteFile(path, migrated.body, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// migrate opens a new database in a directory of its own, closes it (the
// last connection's close folds the WAL into the file) and returns the
// file.
func migrate() ([]byte, error) {
	dir, err := os.MkdirTemp("", "rtm-handlers-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "migrated.db")
	st, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

type app struct {
	t     *testing.T
	store *store.Store
	hub   *hub.Hub
	relay *Relay
	srv   *httptest.Server
}

func newApp(t *testing.T) *app {
	t.Helper()
	return newAppWith(t, hub.Options{}, nil, nil)
}

// newAppWith builds an app with hub options, a listener wrapper and a
// change to the handler's Deps (each may be nil).
func newAppWith(t *testing.T, hubOpt hub.Options, wrap func(net.Listener) net.Listener, change func(*Deps)) *app {
	t.Helper()
	return newAppStore(t, hubOpt, store.Options{}, wrap, change)
}

// newAppStore is newAppWith with store options too (such as its clock).
func newAppStore(t *testing.T, hubOpt hub.Options, storeOpt store.Options, wrap func(net.Listener) net.Listener, change func(*Deps)) *app {
	t.Helper()
	return newAppRelayed(t, hubOpt, storeOpt, wrap, change, nil)
}

// newAppRelayed is newAppStore with the relay's output passed through
// relayOut (nil: straight to the hub).
func newAppRelayed(t *testing.T, hubOpt hub.Options, storeOpt store.Options, wrap func(net.Listener) net.Listener,
	change func(*Deps), relayOut func(Fanout) Fanout) *app {
	t.Helper()
	hb := hub.New(hubOpt)
	var out Fanout = hb
	if relayOut != nil {
		out = relayOut(hb)
	}
	relay := NewRelay(out, nil)
	storeOpt.OnCommit, storeOpt.OnReceipts, storeOpt.OnReads = relay.Committed, relay.Receipts, relay.Reads
	st, err := store.Open(context.Background(), migratedDB(t), storeOpt)
	if err != nil {
		relay.Close()
		t.Fatal(err)
	}
	relay.Record(st)
	d := Deps{Store: st, Embeds: st, Streams: hb, Sessions: st.Sessions(), Password: cheap, ReplayLimit: 20, Fragments: relay.Fragments()}
	if change != nil {
		change(&d)
	}
	h := New(d)
	srv := httptest.NewUnstartedServer(h.Routes())
	if wrap != nil {
		srv.Listener = wrap(srv.Listener)
	}
	srv.Start()
	a := &app{t: t, store: st, hub: hb, relay: relay, srv: srv}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hb.Close(ctx)
		a.srv.Close()
		relay.Close()
		st.Close()
	})
	return a
}

// settle waits until the relay has published everything committed so far.
// A stream opened without a resume point would otherwise also get events
// committed before it, published since: harmless for a page (its stream
// resumes from where the page was rendered, and fragments replace
// themselves), but not what a test of "the next event" expects.
func (a *app) settle() {
	a.t.Helper()
	if err := a.relay.Sync(a.t.Context()); err != nil {
		a.t.Fatal(err)
	}
}

// browser is one person's cookie jar; it does not follow redirects so tests
// can check them.
type browser struct {
	a    *app
	c    *http.Client
	name string
}

func (a *app) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{a: a, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// signup creates an account and returns its signed-in browser.
func (a *app) signup(name string) *browser {
	a.t.Helper()
	b := a.browser()
	b.name = name
	res := b.post("/signup", url.Values{"username": {name}, "password": {"password-" + name}}, nil)
	if res.status != http.StatusSeeOther || res.location != "/rooms" {
		a.t.Fatalf("signup %s: %d %s\n%s", name, res.status, res.location, res.body)
	}
	return b
}

type result struct {
	status   int
	location string
	header   http.Header
	body     string
}

func (b *browser) do(req *http.Request) result {
	b.a.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.a.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, location: resp.Header.Get("Location"), header: resp.Header, body: string(body)}
}

func (b *browser) get(path string, header http.Header) result {
	b.a.t.Helper()
	req, _ := http.NewRequest("GET", b.a.srv.URL+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, header http.Header) result {
	b.a.t.Helper()
	return b.postRaw(path, form.Encode(), header)
}

func (b *browser) postRaw(path, body string, header http.Header) result {
	b.a.t.Helper()
	req, _ := http.NewRequest("POST", b.a.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return b.do(req)
}

// follow loads the page a form's answer redirects to (303), as a browser
// does: where a secret made by the form is shown (fresh.go). Any other
// answer is returned as it is.
func (b *browser) follow(res result) result {
	b.a.t.Helper()
	if res.status != http.StatusSeeOther {
		return res
	}
	return b.get(res.location, nil)
}

var htmx = http.Header{"Hx-Request": {"true"}}

// createRoom makes a room as b and returns its id.
func (b *browser) createRoom(name string) int64 {
	b.a.t.Helper()
	res := b.post("/rooms", url.Values{"name": {name}, "topic": {"about " + name}}, nil)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/rooms/") {
		b.a.t.Fatalf("create room: %d %q\n%s", res.status, res.location, res.body)
	}
	rooms, _, err := b.a.store.Rooms(context.Background(), b.user().ID)
	if err != nil {
		b.a.t.Fatal(err)
	}
	for _, r := range rooms {
		if r.Name == name {
			return r.ID
		}
	}
	b.a.t.Fatalf("room %s not found after creating it", name)
	return 0
}

func (b *browser) user() chat.User {
	b.a.t.Helper()
	u, _, err := b.a.store.UserByName(context.Background(), b.name)
	if err != nil {
		b.a.t.Fatal(err)
	}
	return u
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("body lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, body string, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(body, n) {
			t.Errorf("body contains %q", n)
		}
	}
}

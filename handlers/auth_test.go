package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/store"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sessionCookie(t *testing.T, b *browser) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(b.a.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "rtm_session" {
			return c
		}
	}
	return nil
}

func TestSignupLoginLogout(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	if !alice.user().Admin {
		t.Fatal("the first account must be the admin")
	}
	if a.signup("bob").user().Admin {
		t.Fatal("only the first account is the admin")
	}
	res := alice.get("/rooms", nil)
	if res.status != 200 {
		t.Fatalf("GET /rooms signed in: %d", res.status)
	}
	mustContain(t, res.body, `title="Live updates"><a href="/people/alice" title="Your details">alice</a></span>`, `data-connect="/events?after=`)

	res = alice.post("/logout", nil, nil)
	if res.status != http.StatusSeeOther || res.location != "/login" {
		t.Fatalf("logout: %d %s", res.status, res.location)
	}
	if res := alice.get("/rooms", nil); res.status != http.StatusSeeOther || res.location != "/login" {
		t.Fatalf("after logout GET /rooms: %d %s", res.status, res.location)
	}

	// A token planted before login must not survive it (session fixation).
	visitor := a.browser()
	visitor.get("/login", nil)
	visitor.post("/login", url.Values{"username": {"nobody"}, "password": {"whatever1"}}, nil)
	before := sessionCookie(t, visitor)
	res = visitor.post("/login", url.Values{"username": {"ALICE"}, "password": {"password-alice"}}, nil)
	if res.status != http.StatusSeeOther || res.location != "/rooms" {
		t.Fatalf("login: %d %s %s", res.status, res.location, res.body)
	}
	after := sessionCookie(t, visitor)
	if after == nil || (before != nil && before.Value == after.Value) {
		t.Fatal("login must issue a new session token")
	}
	setCookie := res.header.Get("Set-Cookie")
	for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(setCookie, attr) {
			t.Errorf("session cookie %q lacks %s", setCookie, attr)
		}
	}
}

func TestLoginFailuresSayLittleAndKeepTheUsername(t *testing.T) {
	a := newApp(t)
	a.signup("alice")
	for _, form := range []url.Values{
		{"username": {"alice"}, "password": {"wrong-password"}},
		{"username": {"nobody"}, "password": {"wrong-password"}},
	} {
		res := a.browser().post("/login", form, nil)
		if res.status != http.StatusUnauthorized {
			t.Fatalf("bad login %v: %d", form, res.status)
		}
		mustContain(t, res.body, "Wrong username or password.", `value="`+form.Get("username")+`"`)
		mustNotContain(t, res.body, "wrong-password")
	}
}

func TestSignupValidation(t *testing.T) {
	a := newApp(t)
	a.signup("taken")
	cases := []struct {
		user, pass string
		status     int
		says       string
	}{
		{"ab", "password1", 422, "3 to 32 characters"},
		{"bad name", "password1", 422, "3 to 32 characters"},
		{"<script>", "password1", 422, "3 to 32 characters"},
		{"good", "short", 422, "at least 8"},
		{"good", strings.Repeat("p", 300), 422, "at most 256"},
		{"TAKEN", "password1", 409, "is taken"},
	}
	for _, c := range cases {
		res := a.browser().post("/signup", url.Values{"username": {c.user}, "password": {c.pass}}, nil)
		if res.status != c.status || !strings.Contains(res.body, c.says) {
			t.Errorf("signup %q/%d chars: %d, want %d saying %q", c.user, len(c.pass), res.status, c.status, c.says)
		}
		mustNotContain(t, res.body, "<script>")
	}
}

func TestAnonymousVisitorsAreSentToLogin(t *testing.T) {
	a := newApp(t)
	v := a.browser()
	for path, login := range map[string]string{"/": "/login", "/rooms": "/login", "/rooms/1?x=1": "/login?next=%2Frooms%2F1%3Fx%3D1"} {
		if res := v.get(path, nil); res.status != http.StatusSeeOther || res.location != login {
			t.Errorf("GET %s: %d %s, want %s", path, res.status, res.location, login)
		}
	}
	// Streams and htmx requests are told in a way the page acts on: it says
	// "signed out", stops reconnecting, and the form keeps its text.
	if res := v.get("/events", nil); res.status != http.StatusUnauthorized || !strings.Contains(res.body, "event: rtm-signed-out\n") {
		t.Errorf("GET /events anonymous: %d %q, want 401 and the signed-out event", res.status, res.body)
	}
	res := v.post("/rooms/1/messages", url.Values{"body": {"hi"}}, htmx)
	if res.status != http.StatusUnauthorized || res.header.Get("HX-Trigger") != "rtm-signed-out" || res.header.Get("HX-Reswap") != "none" {
		t.Errorf("htmx post anonymous: %d trigger %q reswap %q", res.status, res.header.Get("HX-Trigger"), res.header.Get("HX-Reswap"))
	}
	if res := v.post("/rooms", url.Values{"name": {"x"}}, nil); res.status != http.StatusUnauthorized {
		t.Errorf("POST /rooms anonymous: %d", res.status)
	}
}

func TestCrossSiteFormPostsAreRefused(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	forged := http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}
	res := alice.post("/rooms", url.Values{"name": {"pwned"}}, forged)
	if res.status != http.StatusForbidden {
		t.Fatalf("cross-site post: %d, want 403", res.status)
	}
	mustContain(t, res.body, "came from another site")
	if joined, others, _ := a.store.Rooms(t.Context(), alice.user().ID); len(joined)+len(others) != 0 {
		t.Fatal("a forged post created a room")
	}
	sameSite := http.Header{"Sec-Fetch-Site": {"same-origin"}}
	if res := alice.post("/rooms", url.Values{"name": {"fine"}}, sameSite); res.status != http.StatusSeeOther {
		t.Fatalf("same-origin post: %d", res.status)
	}
}

// A signed-in error page's stream resumes from the newest message, as
// any page's does: from 0, the tab holding the browser's stream would
// answer its hello with a reload, and the page would load again and again.
func TestAnErrorPageStreamsFromTheNewestMessage(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := alice.createRoom("general")
	latest := alice.sayID(room, "the newest")
	res := alice.get("/no/such/page", nil)
	if res.status != http.StatusNotFound {
		t.Fatalf("status %d", res.status)
	}
	mustContain(t, res.body, fmt.Sprintf(`data-connect="/events?after=%d"`, latest), `data-heartbeat="15000"`)
}

// latestIDFails is the store with LatestID failing while on is set.
type latestIDFails struct {
	*store.Store
	on *atomic.Bool
}

func (s latestIDFails) LatestID(ctx context.Context) (int64, error) {
	if s.on.Load() {
		return 0, errors.New("the store cannot be read")
	}
	return s.Store.LatestID(ctx)
}

// An error page whose newest message cannot be read opens no stream at
// all, rather than one from 0.
func TestAnErrorPageWithoutAResumePointOpensNoStream(t *testing.T) {
	var failing atomic.Bool
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) { d.Store = latestIDFails{d.Store.(*store.Store), &failing} })
	alice := a.signup("alice")
	failing.Store(true)
	res := alice.get("/no/such/page", nil)
	if res.status != http.StatusNotFound {
		t.Fatalf("status %d", res.status)
	}
	mustContain(t, res.body, "There is no page at this address.")
	mustNotContain(t, res.body, `id="stream"`, `id="socket"`, "data-connect")
}

func TestHealthAndHeaders(t *testing.T) {
	a := newApp(t)
	res := a.browser().get("/healthz", nil)
	if res.status != 200 || res.body != "ok\n" {
		t.Fatalf("healthz: %d %q", res.status, res.body)
	}
	res = a.browser().get("/login", nil)
	csp := res.header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %s", csp, d)
		}
	}
	// Scripts fall back to default-src; nothing may loosen them.
	for _, d := range []string{"script-src", "unsafe"} {
		if strings.Contains(csp, d) {
			t.Errorf("CSP %q has %s", csp, d)
		}
	}
	if res.header.Get("X-Content-Type-Options") != "nosniff" || res.header.Get("Referrer-Policy") == "" {
		t.Errorf("missing nosniff or Referrer-Policy: %v", res.header)
	}
	if res := a.browser().get("/no/such/page", nil); res.status != 404 {
		t.Errorf("unknown path: %d", res.status)
	}
}

func TestSecureCookiesUseTheHostPrefix(t *testing.T) {
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) { d.SecureCookies = true })
	res := a.browser().post("/signup", url.Values{"username": {"alice"}, "password": {"password-alice"}}, nil)
	c := res.header.Get("Set-Cookie")
	for _, want := range []string{"__Host-rtm_session=", "Secure", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(c, want) {
			t.Errorf("cookie %q lacks %s", c, want)
		}
	}
	if strings.Contains(c, "Domain=") {
		t.Errorf("a __Host- cookie must not name a domain: %q", c)
	}
}

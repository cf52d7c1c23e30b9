package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/ratelimit"
)

// clock is a settable time for limiters and sessions.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestLoginIsRateLimitedPerAddressAndPerAccount(t *testing.T) {
	clk := &clock{t: time.Now()}
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) {
		d.TrustProxy = true
		d.Limits.LoginPerIP = ratelimit.New(1.0/60, 5).WithClock(clk.now)
		d.Limits.LoginPerAccount = ratelimit.New(1.0/90, 3).WithClock(clk.now)
	})
	from := func(ip string) http.Header { return http.Header{"X-Forwarded-For": {"203.0.113.9, " + ip}} }
	a.browser().post("/signup", url.Values{"username": {"alice"}, "password": {"password-alice"}}, from("10.0.0.1"))

	// Per address: five attempts, then 429 with Retry-After, whatever the account.
	for i := range 4 {
		if res := a.browser().post("/login", url.Values{"username": {fmt.Sprint("nobody", i)}, "password": {"x"}}, from("10.0.0.1")); res.status != 401 {
			t.Fatalf("attempt %d: %d", i, res.status)
		}
	}
	res := a.browser().post("/login", url.Values{"username": {"alice"}, "password": {"password-alice"}}, from("10.0.0.1"))
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "60" || !strings.Contains(res.body, "Try again in 60 seconds") {
		t.Fatalf("6th attempt from one address: %d %q", res.status, res.header.Get("Retry-After"))
	}
	if res := a.browser().post("/login", url.Values{"username": {"alice"}, "password": {"password-alice"}}, from("10.0.0.2")); res.status != http.StatusSeeOther {
		t.Fatalf("another address is not limited: %d", res.status)
	}

	// Per account: three failures from anywhere lock the account's log-in...
	for i := range 3 {
		a.browser().post("/login", url.Values{"username": {"alice"}, "password": {"wrong"}}, from(fmt.Sprint("10.1.0.", i)))
	}
	res = a.browser().post("/login", url.Values{"username": {"ALICE"}, "password": {"password-alice"}}, from("10.2.0.1"))
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Fatalf("locked account: %d", res.status)
	}
	// ...until time passes; a success then clears the count.
	clk.add(90 * time.Second)
	if res := a.browser().post("/login", url.Values{"username": {"alice"}, "password": {"password-alice"}}, from("10.3.0.1")); res.status != http.StatusSeeOther {
		t.Fatalf("after the wait: %d %s", res.status, res.body)
	}
	if res := a.browser().post("/login", url.Values{"username": {"alice"}, "password": {"wrong"}}, from("10.3.0.2")); res.status != 401 {
		t.Fatalf("count must restart after a success: %d", res.status)
	}
}

func TestPostingAndStreamingAreRateLimitedPerUser(t *testing.T) {
	clk := &clock{t: time.Now()}
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) {
		d.Limits.Posts = ratelimit.New(1, 3).WithClock(clk.now)
		d.Limits.Streams = ratelimit.New(1, 2).WithClock(clk.now)
	})
	alice, bob := a.signup("alice"), a.signup("bob")
	room := fmt.Sprintf("/rooms/%d", alice.createRoom("general"))
	bob.post(room+"/join", nil, nil)
	for i := range 3 {
		if res := alice.post(room+"/messages", url.Values{"body": {fmt.Sprint("m", i)}}, htmx); res.status != 200 {
			t.Fatalf("post %d: %d", i, res.status)
		}
	}
	res := alice.post(room+"/messages", url.Values{"body": {"one too many"}}, htmx)
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "1" {
		t.Fatalf("4th post: %d %q", res.status, res.header.Get("Retry-After"))
	}
	mustContain(t, res.body, "sending messages too fast", "one too many</textarea>")
	if res := bob.post(room+"/messages", url.Values{"body": {"bob is fine"}}, htmx); res.status != 200 {
		t.Fatalf("the limit is per user: %d", res.status)
	}
	clk.add(time.Second)
	if res := alice.post(room+"/messages", url.Values{"body": {"later"}}, htmx); res.status != 200 {
		t.Fatalf("after a second: %d", res.status)
	}

	for range 2 {
		alice.open("", nil).close()
	}
	if res := alice.get("/events", nil); res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Fatalf("3rd stream connect: %d", res.status)
	}
}

func TestSessionsEndWhenIdleOrTooOld(t *testing.T) {
	clk := &clock{t: time.Now()}
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) {
		d.Now = clk.now
		d.SessionIdle = time.Hour
		d.SessionLifetime = 48 * time.Hour
	})
	alice := a.browser()
	res := alice.post("/signup", url.Values{"username": {"alice"}, "password": {"password-alice"}}, nil)
	if !strings.Contains(res.header.Get("Set-Cookie"), "Max-Age=172800") {
		t.Fatalf("the cookie should last the absolute lifetime (48h): %q", res.header.Get("Set-Cookie"))
	}
	for range 3 { // activity keeps the session alive past the idle timeout
		clk.add(50 * time.Minute)
		if res := alice.get("/rooms", nil); res.status != 200 {
			t.Fatalf("active session ended: %d", res.status)
		}
	}
	clk.add(61 * time.Minute)
	if res := alice.get("/rooms", nil); res.status != http.StatusSeeOther || res.location != "/login" {
		t.Fatalf("idle session still valid: %d", res.status)
	}
}

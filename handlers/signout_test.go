package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/store"
)

// A log-out that lands while other requests use the same session ends it
// for good: none of them may store it again or bring it back from a cache.
// The clock jumps a minute per reading, so every request also commits the
// session (its last-seen time), racing the deletion.
func TestLogoutRevokesASessionInUse(t *testing.T) {
	var ticks atomic.Int64
	start := time.Now()
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) {
		d.Now = func() time.Time { return start.Add(time.Duration(ticks.Add(1)) * 61 * time.Second) }
		d.SessionIdle = 1 << 62 // the jumping clock must not look idle
	})
	a.signup("alice")
	for round := range 100 {
		b := a.browser()
		if res := b.post("/login", url.Values{"username": {"alice"}, "password": {"password-alice"}}, nil); res.status != http.StatusSeeOther {
			t.Fatalf("round %d: log in: %d", round, res.status)
		}
		stop := make(chan struct{})
		var users sync.WaitGroup
		for range 12 {
			users.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					req, _ := http.NewRequest("GET", a.srv.URL+"/rooms", nil)
					if resp, err := b.c.Do(req); err == nil {
						resp.Body.Close()
					}
				}
			})
		}
		if res := b.post("/logout", nil, nil); res.status != http.StatusSeeOther {
			t.Fatalf("round %d: log out: %d", round, res.status)
		}
		close(stop)
		users.Wait()
		// The cookie jar may have been handed the token again by a request
		// that was in flight: it must be worthless.
		if res := b.get("/rooms", nil); res.status != http.StatusSeeOther || res.location != "/login" {
			t.Fatalf("round %d: the logged-out session still works: %d %s", round, res.status, res.location)
		}
	}
}

// sessionEnd is one way a session ends, done to alice (browser b) while
// her stream is open; tick drives one hub heartbeat.
type sessionEnd struct {
	name string
	// viaHeartbeat: the end is noticed at the next heartbeat, not at once.
	viaHeartbeat bool
	end          func(t *testing.T, e *endRig)
}

type endRig struct {
	a     *app
	alice *browser
	admin *browser
	clk   *clock
}

var sessionEnds = []sessionEnd{
	{name: "logout", end: func(t *testing.T, e *endRig) {
		if res := e.alice.post("/logout", nil, nil); res.status != http.StatusSeeOther {
			t.Fatalf("log out: %d", res.status)
		}
	}},
	{name: "idle", viaHeartbeat: true, end: func(t *testing.T, e *endRig) { e.clk.add(2 * time.Hour) }},
	{name: "lifetime", viaHeartbeat: true, end: func(t *testing.T, e *endRig) {
		// Activity keeps it from going idle (1 h) until its lifetime (8 h)
		// runs out, 40 minutes after the last request.
		for range 9 {
			e.clk.add(50 * time.Minute)
			if res := e.alice.get("/rooms", nil); res.status != 200 {
				t.Fatalf("an active session ended before its lifetime: %d", res.status)
			}
		}
		e.clk.add(40 * time.Minute)
	}},
	{name: "reset", end: func(t *testing.T, e *endRig) {
		res := e.admin.follow(e.admin.post("/people/alice/link", nil, nil))
		_, rest, ok := strings.Cut(res.body, "/welcome/")
		if !ok {
			t.Fatalf("no sign-in link made: %d\n%s", res.status, res.body)
		}
		token := rest[:strings.IndexAny(rest, "<\" ")]
		other := e.a.browser() // alice, on another device, follows the link
		if res := other.post("/welcome/"+token, url.Values{"password": {"a-new-password"}}, nil); res.status != http.StatusSeeOther {
			t.Fatalf("use link: %d %s", res.status, res.body)
		}
	}},
	{name: "deactivation", end: func(t *testing.T, e *endRig) {
		if res := e.admin.post("/people/alice/deactivate", nil, nil); res.status != http.StatusSeeOther {
			t.Fatalf("deactivate: %d %s", res.status, res.body)
		}
	}},
}

// newEndRig makes an app whose clock and heartbeats the test drives, with
// an admin and alice, a member of one room.
func newEndRig(t *testing.T, ticks chan time.Time) (*endRig, int64) {
	clk := &clock{t: time.Now()}
	a := newAppStore(t, hub.Options{HeartbeatTicks: ticks}, store.Options{Now: clk.now}, nil, func(d *Deps) {
		d.Now = clk.now
		d.SessionIdle = time.Hour
		d.SessionLifetime = 8 * time.Hour
	})
	e := &endRig{a: a, admin: a.signup("admin"), clk: clk}
	e.alice = a.signup("alice")
	room := e.admin.createRoom("general")
	e.alice.post(fmt.Sprintf("/rooms/%d/join", room), nil, nil)
	return e, room
}

// Every way a session ends closes the SSE streams it opened: at once, or
// for time-based ends at the first heartbeat after. The page is told why.
func TestEverySessionEndClosesItsStream(t *testing.T) {
	for _, how := range sessionEnds {
		t.Run(how.name, func(t *testing.T) {
			ticks := make(chan time.Time)
			e, _ := newEndRig(t, ticks)
			s := e.alice.open("", nil)
			e.a.waitConns(1)
			how.end(t, e)
			if how.viaHeartbeat {
				ticks <- time.Now()
			}
			waitSignedOut(t, s)
			if res := e.alice.get("/events", nil); res.status != http.StatusUnauthorized || !strings.Contains(res.body, "event: rtm-signed-out") {
				t.Fatalf("reconnect: %d %q, want 401 with the signed-out event", res.status, res.body)
			}
		})
	}
}

// waitSignedOut reads s until the signed-out event, which must come before
// the stream ends, and then the end.
func waitSignedOut(t *testing.T, s *stream) {
	t.Helper()
	for {
		ev, err := s.bg.Next(10 * time.Second)
		if err != nil {
			t.Fatalf("stream ended without the signed-out event: %v", err)
		}
		if ev.Name == hub.SignedOutEvent {
			break
		}
	}
	if !s.bg.Ended(10 * time.Second) {
		t.Fatal("the stream stayed open after its session ended")
	}
}

// The same for WebSockets, and a post over a socket whose session has
// ended is refused and not stored, even before the socket is closed.
func TestEverySessionEndClosesItsSocket(t *testing.T) {
	for _, how := range sessionEnds {
		t.Run(how.name, func(t *testing.T) {
			ticks := make(chan time.Time)
			e, room := newEndRig(t, ticks)
			ws, _, err := e.alice.dialSocket("", nil)
			if err != nil {
				t.Fatal(err)
			}
			e.a.waitConns(1)
			how.end(t, e)
			body := "posted after the end by " + how.name
			if how.viaHeartbeat {
				// Not noticed by the stream yet: the post itself must be refused.
				ws.send(map[string]any{"room": room, "body": body, "client_id": "late-1"})
				if f := ws.next(); f.Event != hub.SignedOutEvent {
					t.Fatalf("post after the end answered %+v, want the signed-out event", f)
				}
				ticks <- time.Now()
			}
			waitSocketSignedOut(t, ws)
			_ = ws.c.Write(context.Background(), websocket.MessageText, []byte(`{"room":"1","body":"`+body+`"}`))
			history, _, err := e.a.store.History(context.Background(), room, 0, 50)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range history {
				if strings.Contains(m.Body, "posted after the end") {
					t.Fatalf("a post after the session ended was stored: %q", m.Body)
				}
			}
			// A reconnect is told the same, not refused in a way a page
			// would take for a network error and retry forever.
			again, resp, err := e.alice.dialSocket("", nil)
			if err != nil {
				t.Fatalf("reconnect: %v (%v)", err, resp)
			}
			waitSocketSignedOut(t, again)
		})
	}
}

// waitSocketSignedOut reads frames until the signed-out event, then expects
// the close code that tells the page not to reconnect.
func waitSocketSignedOut(t *testing.T, ws *socket) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sawEvent := false
	for {
		_, b, err := ws.c.Read(ctx)
		if err != nil {
			if !sawEvent {
				t.Fatalf("socket ended without the signed-out event: %v", err)
			}
			if code := websocket.CloseStatus(err); code != 4001 {
				t.Fatalf("socket closed with %v (%d), want 4001", err, code)
			}
			return
		}
		if strings.Contains(string(b), `"event":"`+hub.SignedOutEvent+`"`) {
			sawEvent = true
		}
	}
}

package hub

import (
	"sync"
	"testing"
	"time"
)

// Ending one sign-in closes only the streams it opened: the same user's
// streams from another sign-in (another browser) keep going. Each closed
// stream gets what was queued for it, then the signed-out event.
func TestEndSessionClosesOnlyThatSessionsStreams(t *testing.T) {
	rg := newRig(t, Options{})
	rg.hub.Join(10, 1)
	phone, laptop := rg.connect(1, "?session=phone"), rg.connect(1, "?session=laptop")
	rg.waitConns(2)

	rg.hub.Publish(10, 1, []byte("before"))
	rg.hub.EndSession(1, "phone")
	if ev := phone.next(t); ev.Data != "before" {
		t.Fatalf("the ended stream lost what was queued: %+v", ev)
	}
	if ev := phone.next(t); ev.Name != SignedOutEvent || ev.ID != "1" {
		t.Fatalf("want the signed-out event, keeping the resume point, got %+v", ev)
	}
	if !phone.bg.Ended(5 * time.Second) {
		t.Fatal("the ended session's stream stayed open")
	}
	rg.waitConns(1)

	rg.hub.Publish(10, 2, []byte("after"))
	for _, want := range []string{"before", "after"} {
		if ev := laptop.next(t); ev.Data != want {
			t.Fatalf("the other session's stream got %+v, want %q", ev, want)
		}
	}
}

// twoSessions opens a stream for each of user 1's sessions "old" and
// "fresh", in room 10, on a hub whose heartbeats come from ticks; expire
// makes a session invalid.
func twoSessions(t *testing.T, ticks chan time.Time) (rg *rig, old, fresh *client, expire func(session string)) {
	t.Helper()
	rg = newRig(t, Options{HeartbeatTicks: ticks})
	var mu sync.Mutex
	over := map[string]bool{}
	rg.valid = func(session string) bool {
		mu.Lock()
		defer mu.Unlock()
		return !over[session]
	}
	rg.hub.Join(10, 1)
	old, fresh = rg.connect(1, "?session=old"), rg.connect(1, "?session=fresh")
	rg.waitConns(2)
	return rg, old, fresh, func(session string) {
		mu.Lock()
		defer mu.Unlock()
		over[session] = true
	}
}

// At each heartbeat every stream's session is checked again; one that is
// no longer valid ends then, and only that one.
func TestHeartbeatEndsStreamsWhoseSessionIsOver(t *testing.T) {
	ticks := make(chan time.Time)
	rg, old, fresh, expire := twoSessions(t, ticks)
	ticks <- time.Now() // all valid: nothing ends
	expire("old")
	ticks <- time.Now()
	onlyOldEnds(t, rg, old, fresh)
}

// onlyOldEnds checks that old got the signed-out event and closed while
// fresh, the valid session's stream, goes on.
func onlyOldEnds(t *testing.T, rg *rig, old, fresh *client) {
	t.Helper()
	if ev := old.next(t); ev.Name != SignedOutEvent {
		t.Fatalf("want the signed-out event, got %+v", ev)
	}
	if !old.bg.Ended(5 * time.Second) {
		t.Fatal("a stream whose session is over stayed open")
	}
	rg.waitConns(1)
	rg.hub.Publish(10, 1, []byte("still here"))
	if ev := fresh.next(t); ev.Data != "still here" {
		t.Fatalf("the valid session's stream got %+v", ev)
	}
}

// CheckSessions checks every stream's session without waiting for a
// heartbeat (none comes here).
func TestCheckSessionsEndsStreamsWithoutAHeartbeat(t *testing.T) {
	rg, old, fresh, expire := twoSessions(t, make(chan time.Time))
	expire("old")
	for range 3 {
		rg.hub.CheckSessions()
	}
	onlyOldEnds(t, rg, old, fresh)
}

// Calls made while a check runs return at once and make one more check
// between them, not one each.
func TestCheckSessionsCallsWhileOneRunsMerge(t *testing.T) {
	rg := newRig(t, Options{HeartbeatTicks: make(chan time.Time)})
	checking, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	checks, marked := 0, false
	firstMarked := make(chan int, 1) // how many checks ran before the first marked one
	rg.valid = func(string) bool {
		mu.Lock()
		checks++
		n, m := checks, marked
		marked = false
		mu.Unlock()
		if n == 1 {
			close(checking)
			<-release // the first check holds the heartbeat goroutine
		}
		if m {
			firstMarked <- n - 1
		}
		return true
	}
	rg.hub.Join(10, 1)
	rg.connect(1, "?session=only")
	rg.waitConns(1)
	rg.hub.CheckSessions()
	<-checking
	for range 5 {
		rg.hub.CheckSessions() // returns at once: the check is still running
	}
	close(release)
	waitFor(t, "the merged check", func() bool { mu.Lock(); defer mu.Unlock(); return checks >= 2 })
	// Checks run one after another: the next one after this mark shows
	// how many the five calls made (one each would be six in all).
	mu.Lock()
	marked = true
	mu.Unlock()
	rg.hub.CheckSessions()
	select {
	case before := <-firstMarked:
		if before != 2 {
			t.Fatalf("%d checks before the marked one: five calls during a check made %d, want 1", before, before-1)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the last CheckSessions never ran a check")
	}
}

// Disconnect (deactivation, a new password) ends every stream of the user,
// whatever sign-in opened it, and no one else's.
func TestDisconnectEndsAllOfAUsersStreams(t *testing.T) {
	rg := newRig(t, Options{})
	rg.hub.Join(10, 1)
	rg.hub.Join(10, 2)
	a, b, other := rg.connect(1, "?session=a"), rg.connect(1, "?session=b"), rg.connect(2, "?session=c")
	rg.waitConns(3)
	rg.hub.Disconnect(1)
	for _, c := range []*client{a, b} {
		if ev := c.next(t); ev.Name != SignedOutEvent {
			t.Fatalf("want the signed-out event, got %+v", ev)
		}
	}
	rg.waitConns(1)
	rg.hub.Publish(10, 5, []byte("for user 2"))
	if ev := other.next(t); ev.Data != "for user 2" {
		t.Fatalf("another user's stream got %+v", ev)
	}
}

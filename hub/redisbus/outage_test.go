package redisbus

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/internal/redistest"
)

// While Redis is away posting goes on: A's own readers get every message
// live, both nodes report degraded and log it once. When it is back, B's
// reader catches up from the database without posting anything more, and
// nothing is missed by anyone.
func TestRedisOutageLosesNothing(t *testing.T) {
	d := newDB()
	d.setMember(10, 1, true)
	d.setMember(10, 2, true)
	a, b, pa, pb := twoNodes(t, d)
	onA, onB := a.read(1, "s"), b.read(2, "s")
	a.waitConns(1)
	b.waitConns(1)
	before := a.post(10, "before")
	onB.until(t, before)

	pa.Cut()
	pb.Cut()
	for _, n := range []*node{a, b} {
		waitFor(t, "the bus to notice", func() bool { return n.bus.Health() != nil })
	}
	if err := b.bus.Health(); !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("health says %q", err)
	}
	during := []int64{a.post(10, "during 1"), a.post(10, "during 2")}
	duringAt := time.Now()
	if got := onA.until(t, during[1]); !slices.Equal(got, []int64{before, during[0], during[1]}) {
		t.Fatalf("A's own reader got %v during the outage", got)
	}

	pa.Restore()
	pb.Restore()
	if got := dedupe(onB.until(t, during[1])); !slices.Equal(got, during) {
		t.Fatalf("B's reader caught up with %v, want %v", got, during)
	}
	a.waitHealthy()
	b.waitHealthy()
	// B remembers the gap: a stream resuming from an event made during it
	// replays from before it began, not just Lag back.
	if from := b.bus.ReplayFrom(duringAt); !from.Before(duringAt.Add(-Lag)) {
		t.Errorf("B replays an event made during the outage from %v, only Lag before it", from)
	}
	after := a.post(10, "after")
	for name, rd := range map[string]*reader{"A": onA, "B": onB} {
		if got := rd.until(t, after); got[len(got)-1] != after {
			t.Fatalf("%s's reader got %v after the outage", name, got)
		}
	}
	for name, n := range map[string]*node{"A": a, "B": b} {
		if down, up := n.log.count("bus degraded"), n.log.count("bus back"); down != 1 || up != 1 {
			t.Errorf("%s logged the outage %d times and the recovery %d times, want once each", name, down, up)
		}
	}
}

// When only the publishing node loses Redis, the others stay subscribed
// and hear nothing of what it could not send: it owes them a resync, sent
// as soon as Redis takes it, and their readers catch up from the database.
func TestANodeThatCouldNotPublishMakesTheOthersCatchUp(t *testing.T) {
	d := newDB()
	d.setMember(10, 2, true)
	a, b, pa, _ := twoNodes(t, d)
	onB := b.read(2, "s")
	b.waitConns(1)

	pa.Cut()
	waitFor(t, "A to notice", func() bool { return a.bus.Health() != nil })
	lost := a.post(10, "lost")
	waitFor(t, "A's publish to fail", func() bool {
		a.bus.health.mu.Lock()
		defer a.bus.health.mu.Unlock()
		return a.bus.health.pubErr != nil
	})
	if err := b.bus.Health(); err != nil {
		t.Fatalf("B lost Redis too: %v", err)
	}

	restoredAt := time.Now()
	pa.Restore()
	if got := onB.until(t, lost); !slices.Equal(got, []int64{lost}) {
		t.Fatalf("B's reader got %v, want %v", got, lost)
	}
	a.waitHealthy()
	// A's resync told B when its ops were lost, so B's streams resuming
	// from then replay from before it.
	if from := b.bus.ReplayFrom(restoredAt); !from.Before(restoredAt.Add(-Lag)) {
		t.Errorf("B replays an event made while A could not publish from %v, only Lag before it", from)
	}
}

// Ops that do not fit the queue are dropped, never waited for: the
// others are told to catch up, and their readers miss nothing.
func TestAFullQueueMakesTheOthersCatchUp(t *testing.T) {
	d := newDB()
	d.setMember(10, 2, true)
	addr, channel := redistest.Addr(t), redistest.Channel(t)
	b := newNode(t, d, addr, channel)
	onB := b.read(2, "s")
	a := newStoppedNode(t, d, addr, channel, Options{QueueSize: 1})
	posted := []int64{a.post(10, "queued"), a.post(10, "dropped"), a.post(10, "dropped too")}
	a.bus.Start()
	if got := dedupe(onB.until(t, posted[2])); !slices.Equal(got, posted) {
		t.Fatalf("B's reader got %v, want %v", got, posted)
	}
	if a.log.count("bus queue full") != 1 {
		t.Errorf("the drop was not logged once")
	}
	if n := a.bus.Dropped(); n < 2 {
		t.Errorf("Dropped() = %d, want the two posts that did not fit", n)
	}
}

// dedupe drops repeated ids, keeping the first: a page's fragments
// replace themselves by id, so a replay overlapping live delivery shows
// each message once.
func dedupe(ids []int64) []int64 {
	var out []int64
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// A node that dies between committing a message and publishing it (kill
// -9) never sends it. Its heartbeats stop, the others notice within three
// of them, and their readers catch up from the database.
func TestANodeThatDiesSilentlyMakesTheOthersCatchUp(t *testing.T) {
	d := newDB()
	d.setMember(10, 2, true)
	addr, channel := redistest.Addr(t), redistest.Channel(t)
	pa := redistest.NewProxy(t, addr)
	opt := Options{ShareEvery: 50 * time.Millisecond}
	a := newStoppedNode(t, d, pa.Addr, channel, opt)
	a.bus.Start()
	a.waitHealthy()
	b := newStoppedNode(t, d, addr, channel, opt)
	b.bus.Start()
	b.waitHealthy()
	onB := b.read(2, "s")
	b.waitConns(1)
	waitFor(t, "B to hear A's heartbeat", func() bool { return a.log.count("bus connected") > 0 && b.log.count("bus connected") > 0 })
	seen := a.post(10, "seen")
	onB.until(t, seen)

	pa.Cut() // A is gone as far as the others can tell
	lost := d.commit(10, "committed on A, never published")
	if got := dedupe(onB.until(t, lost)); !slices.Equal(got, []int64{lost}) {
		t.Fatalf("B's reader got %v, want %v", got, lost)
	}
	if n := b.log.count("bus: a node went silent"); n != 1 {
		t.Errorf("B logged A's silence %d times, want once", n)
	}
}

package hub

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

// countingSink records writes (flushes) and the deadlines set.
type countingSink struct {
	mu        sync.Mutex
	header    http.Header
	buffered  int
	written   int // bytes flushed
	flushes   int
	deadlines int
	keeps     bool // as a socket does; false: as HTTP/2 does
}

func (s *countingSink) Header() http.Header { return s.header }
func (s *countingSink) WriteHeader(int)     {}
func (s *countingSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buffered += len(p)
	return len(p), nil
}
func (s *countingSink) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written += s.buffered
	s.buffered = 0
	s.flushes++
	return nil
}
func (s *countingSink) setWriteDeadline(time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deadlines++
	return nil
}
func (s *countingSink) keepsDeadline() bool { return s.keeps }
func (s *countingSink) close()              {}

func (s *countingSink) counts() (written, flushes, deadlines int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.written, s.flushes, s.deadlines
}

// fakeTimer is the writer's flush timer on a fakeClock: it fires when
// the test calls fireIfDue after the clock has passed its time.
type fakeTimer struct {
	clock *fakeClock
	f     func()
	due   time.Time
	armed bool
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.due, t.armed = t.clock.Now().Add(d), true
	return false
}

func (t *fakeTimer) Stop() bool {
	was := t.armed
	t.armed = false
	return was
}

func (t *fakeTimer) fireIfDue() {
	if t.armed && !t.clock.Now().Before(t.due) {
		t.armed = false
		t.f()
	}
}

// fakeClockWriter is a streamWriter whose clock and flush timer the test
// moves and fires.
func fakeClockWriter(out sink) (*streamWriter, *fakeClock, *fakeTimer) {
	h := &Hub{opt: Options{WriteTimeout: 10 * time.Second, MaxHold: 20 * time.Millisecond}}
	sw := h.newStreamWriter(out)
	clock := &fakeClock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	timer := &fakeTimer{clock: clock}
	sw.countFrom = clock.Now()
	sw.now = clock.Now
	sw.afterFunc = func(d time.Duration, f func()) flushTimer {
		timer.f = f
		timer.Reset(d)
		return timer
	}
	return sw, clock, timer
}

// event writes one event of 10 bytes and ends it, as r3labs does.
func event(sw *streamWriter) {
	sw.Write([]byte("data: 123\n"))
	sw.Flush()
}

// A stream with a few events a second writes each one at once, and moves
// its write deadline only when half the timeout is gone.
func TestQuietStreamWritesEveryEventAtOnce(t *testing.T) {
	out := &countingSink{header: http.Header{}, keeps: true}
	sw, clock, _ := fakeClockWriter(out)
	for i := range 40 {
		event(sw)
		if written, flushes, _ := out.counts(); flushes != i+1 || written != 10*(i+1) {
			t.Fatalf("event %d: %d writes, %d bytes out; want every event out at once", i, flushes, written)
		}
		clock.Add(100 * time.Millisecond) // 10 events a second
	}
	if _, _, deadlines := out.counts(); deadlines != 1 {
		t.Errorf("%d write deadlines set over 4 s with a 10 s timeout, want 1", deadlines)
	}
	clock.Add(2 * time.Second) // 6 s since the deadline was set: under half left
	event(sw)
	if _, _, deadlines := out.counts(); deadlines != 2 {
		t.Errorf("%d write deadlines set once 6 s of 10 had passed, want the deadline moved", deadlines)
	}
	if sw.pending {
		t.Error("a quiet stream has a write pending")
	}
}

// Where a flush clears the deadline (HTTP/2), every write sets it again.
func TestDeadlineIsSetForEveryWriteWhereFlushClearsIt(t *testing.T) {
	out := &countingSink{header: http.Header{}}
	sw, clock, _ := fakeClockWriter(out)
	for range 5 {
		event(sw)
		clock.Add(time.Second)
	}
	if _, flushes, deadlines := out.counts(); flushes != 5 || deadlines != 5 {
		t.Errorf("%d writes set %d deadlines, want one each", flushes, deadlines)
	}
}

// A stream of 1,000 events a second shares writes: after its first
// burstEvents (no rate known yet, so a write each) it writes once per
// MaxHold, and no event waits longer than that.
func TestBusyStreamSharesWrites(t *testing.T) {
	out := &countingSink{header: http.Header{}, keeps: true}
	sw, clock, timer := fakeClockWriter(out)
	const events = 2000
	for i := range events {
		event(sw)
		clock.Add(time.Millisecond)
		timer.fireIfDue()
		if written, _, _ := out.counts(); 10*(i+1)-written > 10*21 {
			t.Fatalf("after event %d, %d bytes held: more than 20 ms of events", i, 10*(i+1)-written)
		}
	}
	_, flushes, _ := out.counts()
	if most := burstEvents + events/20 + 1; flushes > most {
		t.Errorf("%d writes for %d events at 1,000/s; want at most %d", flushes, events, most)
	}
	if sw.gap != 20*time.Millisecond {
		t.Errorf("gap at 1,000 events/s = %v, want the whole MaxHold", sw.gap)
	}
	clock.Add(20 * time.Millisecond)
	timer.fireIfDue()
	if written, _, _ := out.counts(); written != 10*events {
		t.Fatalf("%d of %d bytes out a MaxHold after the last event", written, 10*events)
	}
}

// A burst (a replay after a reconnect: many events at once on a quiet
// stream) costs a write per event only for its first burstEvents; the
// rest share one write, a MaxHold later.
func TestBurstSharesWritesAfterItsFirstEvents(t *testing.T) {
	out := &countingSink{header: http.Header{}, keeps: true}
	sw, clock, timer := fakeClockWriter(out)
	clock.Add(time.Minute) // quiet for a long while
	for range 200 {
		event(sw)
	}
	if _, flushes, _ := out.counts(); flushes > burstEvents {
		t.Errorf("a burst of 200 events took %d writes at once, want at most %d", flushes, burstEvents)
	}
	clock.Add(20 * time.Millisecond)
	timer.fireIfDue()
	if written, flushes, _ := out.counts(); written != 10*200 || flushes > burstEvents+1 {
		t.Errorf("a MaxHold after the burst: %d of %d bytes out in %d writes", written, 10*200, flushes)
	}
}

// The stream's end sends what a held write would have.
func TestFinishSendsWhatWasHeld(t *testing.T) {
	out := &countingSink{header: http.Header{}, keeps: true}
	sw, clock, timer := fakeClockWriter(out)
	for range 300 { // a window at 1,000/s: the gap is MaxHold
		event(sw)
		clock.Add(time.Millisecond)
		timer.fireIfDue()
	}
	event(sw)
	if !sw.pending {
		t.Fatal("the last event was not held")
	}
	sw.finish()
	if written, _, _ := out.counts(); written != 10*301 {
		t.Fatalf("%d of %d bytes out after finish", written, 10*301)
	}
	if timer.armed {
		t.Error("the flush timer is still armed after finish")
	}
}

// The gap grows with the square of the rate: 120 events a second are held
// under 2 ms, 200 a second 5 ms.
func TestGapFollowsTheRate(t *testing.T) {
	for _, tc := range []struct {
		perSecond int
		gap       time.Duration
	}{{4, 0}, {120, 1800 * time.Microsecond}, {200, 5 * time.Millisecond}, {400, 20 * time.Millisecond}, {2000, 20 * time.Millisecond}} {
		out := &countingSink{header: http.Header{}, keeps: true}
		sw, clock, _ := fakeClockWriter(out)
		step := time.Second / time.Duration(tc.perSecond)
		for range tc.perSecond/4 + 2 { // a window's worth, and one to close it
			sw.count(clock.Now())
			clock.Add(step)
		}
		if d := sw.gap - tc.gap; d < -tc.gap/10-10*time.Microsecond || d > tc.gap/10+10*time.Microsecond {
			t.Errorf("%d events/s: gap %v, want %v", tc.perSecond, sw.gap, tc.gap)
		}
	}
}

// failingSink fails every write, as a socket past its write deadline
// does when a large backlog goes out from Write.
type failingSink struct{ countingSink }

func (s *failingSink) Write([]byte) (int, error) { return 0, errors.New("i/o timeout") }

// A write that fails ends the stream, whichever call it came from: after
// a backlog partly sent, the rest of the stream must not follow it.
func TestAFailedWriteEndsTheStream(t *testing.T) {
	out := &failingSink{}
	sw, _, _ := fakeClockWriter(out)
	failed := false
	sw.failed = func() { failed = true }
	if _, err := sw.Write([]byte("data: 123\n")); err == nil {
		t.Fatal("the sink's error was not passed on")
	}
	if !failed || !sw.dead.Load() {
		t.Fatalf("after a failed write: failed called %v, writer cut %v; want both", failed, sw.dead.Load())
	}
	if _, err := sw.Write([]byte("\n")); err != errCut {
		t.Fatalf("a write after the failure: %v, want errCut", err)
	}
	sw.Flush()
	if _, flushes, _ := out.counts(); flushes != 0 {
		t.Fatalf("%d flushes after the failure, want none", flushes)
	}
}

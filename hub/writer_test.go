package hub

import (
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
func (s *countingSink) close() {}

func (s *countingSink) counts() (written, flushes, deadlines int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.written, s.flushes, s.deadlines
}

// testClock is a clock the test moves; the writer's timer reads it too.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeClockWriter is a streamWriter on a clock the test moves.
func fakeClockWriter(out sink) (*streamWriter, *testClock) {
	h := &Hub{opt: Options{WriteTimeout: 10 * time.Second, MaxHold: 20 * time.Millisecond}}
	sw := h.newStreamWriter(out)
	clock := &testClock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	sw.countFrom = clock.now()
	sw.now = clock.now
	return sw, clock
}

// event writes one event of 10 bytes and ends it, as r3labs does.
func event(sw *streamWriter) {
	sw.Write([]byte("data: 123\n"))
	sw.Flush()
}

// A stream with a few events a second writes each one at once, and sets
// its write deadline once, not per write.
func TestQuietStreamWritesEveryEventAtOnce(t *testing.T) {
	out := &countingSink{header: http.Header{}}
	sw, clock := fakeClockWriter(out)
	for i := range 40 {
		event(sw)
		if written, flushes, _ := out.counts(); flushes != i+1 || written != 10*(i+1) {
			t.Fatalf("event %d: %d writes, %d bytes out; want every event out at once", i, flushes, written)
		}
		clock.advance(100 * time.Millisecond) // 10 events a second
	}
	if _, _, deadlines := out.counts(); deadlines != 1 {
		t.Errorf("%d write deadlines set over 4 s with a 10 s timeout, want 1", deadlines)
	}
	if sw.pending {
		t.Error("a quiet stream has a write pending")
	}
}

// A stream of 1,000 events a second shares writes: after its first
// window it writes at most once per MaxHold (plus the timer's writes),
// and the last event still goes out within MaxHold.
func TestBusyStreamSharesWrites(t *testing.T) {
	out := &countingSink{header: http.Header{}}
	sw, clock := fakeClockWriter(out)
	const events = 2000
	for range events {
		event(sw)
		clock.advance(time.Millisecond)
	}
	_, flushes, _ := out.counts()
	// The first window (250 events) has no rate yet: a write each. Then
	// a write at most every 20 ms of the clock, directly or by the timer.
	if most := 250 + 2*(events-250)/20 + 2; flushes > most {
		t.Errorf("%d writes for %d events at 1,000/s; want at most %d", flushes, events, most)
	}
	sw.mu.Lock()
	gap := sw.gap
	sw.mu.Unlock()
	if gap != 20*time.Millisecond {
		t.Errorf("gap at 1,000 events/s = %v, want the whole MaxHold", gap)
	}
	// The held rest goes out when the (real) timer fires.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if written, _, _ := out.counts(); written == 10*events {
			break
		}
		if time.Now().After(deadline) {
			written, _, _ := out.counts()
			t.Fatalf("%d of %d bytes out 10 s after the last event", written, 10*events)
		}
		time.Sleep(time.Millisecond)
	}
}

// The gap grows with the square of the rate: 120 events a second are held
// under 2 ms, 200 a second 5 ms.
func TestGapFollowsTheRate(t *testing.T) {
	for _, tc := range []struct {
		perSecond int
		gap       time.Duration
	}{{4, 0}, {120, 1800 * time.Microsecond}, {200, 5 * time.Millisecond}, {400, 20 * time.Millisecond}, {2000, 20 * time.Millisecond}} {
		out := &countingSink{header: http.Header{}}
		sw, clock := fakeClockWriter(out)
		step := time.Second / time.Duration(tc.perSecond)
		for range tc.perSecond/4 + 2 { // a window's worth, and one to close it
			sw.count(clock.now())
			clock.advance(step)
		}
		if d := sw.gap - tc.gap; d < -tc.gap/10-10*time.Microsecond || d > tc.gap/10+10*time.Microsecond {
			t.Errorf("%d events/s: gap %v, want %v", tc.perSecond, sw.gap, tc.gap)
		}
	}
}

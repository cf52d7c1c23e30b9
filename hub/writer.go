package hub

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// streamWriter sits between an outlet and the client's sink. It puts a
// deadline on writes (a server-wide WriteTimeout would kill every stream),
// fails writes at once after a cut, and coalesces flushes.
//
// Coalescing: a stream's writes are spaced by a gap that grows with the
// square of the events a second it carried lately, reaching MaxHold at
// fullHoldRate. A chat's trickle is never held; a stream of 120 events a
// second is held up to 1.8 ms; one of 400 or more gets at most 50 writes a
// second (MaxHold 20 ms), each carrying every event waiting. A write costs
// several microseconds of system call, so the busiest streams must share
// them, while a moderately busy one keeps its events prompt. An event is
// never held longer than the gap.
type streamWriter struct {
	out     sink
	timeout time.Duration
	maxHold time.Duration
	now     func() time.Time // time.Now; tests move their own clock
	// afterFunc is time.AfterFunc; tests fire their own timer.
	afterFunc func(time.Duration, func()) flushTimer
	dead      atomic.Bool // cut off
	failed    func()      // a write failed: the connection is over

	mu        sync.Mutex // the outlet writes while the flush timer may fire
	deadline  time.Time  // the write deadline last set
	finished  bool       // the stream is over: the writer is no longer ours
	dirty     bool       // data written since the last flush
	pending   bool       // the timer will flush
	lastWrite time.Time
	gap       time.Duration // between writes, from the event rate
	counted   int           // events since countFrom
	countFrom time.Time
	timer     flushTimer
}

// flushTimer is the part of *time.Timer the writer uses.
type flushTimer interface {
	Reset(time.Duration) bool
	Stop() bool
}

func afterFunc(d time.Duration, f func()) flushTimer { return time.AfterFunc(d, f) }

// fullHoldRate is the event rate (per second) at which a stream's writes
// are spaced by the whole MaxHold; rateWindow is how often it is measured,
// and burstEvents how many events a window may hold before its rate so
// far counts.
const (
	fullHoldRate = 400.0
	rateWindow   = 250 * time.Millisecond
	burstEvents  = 10
)

func (h *Hub) newStreamWriter(out sink) *streamWriter {
	now := time.Now()
	return &streamWriter{out: out, timeout: h.opt.WriteTimeout, maxHold: h.opt.MaxHold,
		now: time.Now, afterFunc: afterFunc, countFrom: now}
}

func (sw *streamWriter) Write(p []byte) (int, error) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.finished || sw.dead.Load() {
		return 0, errCut
	}
	// An event comes in several writes: the clock is read for its first
	// (or where a flush cleared the deadline), not for each.
	if !sw.dirty || sw.deadline.IsZero() {
		if err := sw.arm(sw.now()); err != nil {
			return 0, err
		}
	}
	sw.dirty = true
	n, err := sw.out.Write(p)
	if err != nil {
		// A sink that sends a large backlog from Write has lost part of
		// it: r3labs ignores write errors, and carrying on would join
		// what went out to a later event, past a resume point the client
		// never got whole.
		sw.fail()
	}
	return n, err
}

func (sw *streamWriter) Header() http.Header { return sw.out.Header() }

func (sw *streamWriter) WriteHeader(code int) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if !sw.finished {
		sw.out.WriteHeader(code)
		sw.dirty = true
	}
}

// Flush ends an event: it goes out now, or with the next write if the
// stream wrote less than a gap ago.
func (sw *streamWriter) Flush() {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	now := sw.now()
	sw.count(now)
	if sw.finished || sw.pending {
		return // the coming flush takes this data too
	}
	if wait := sw.lastWrite.Add(sw.gap).Sub(now); wait > 0 {
		sw.pending = true
		if sw.timer == nil {
			sw.timer = sw.afterFunc(wait, sw.flushLater)
		} else {
			sw.timer.Reset(wait)
		}
		return
	}
	sw.flush(now)
}

// count notes an event and sets the gap from the rate: the last window's
// once it has passed, or this window's so far once it holds burstEvents,
// so that a burst (a replay after a reconnect) shares writes after its
// first few instead of costing a write per event. The caller holds mu.
func (sw *streamWriter) count(now time.Time) {
	sw.counted++
	elapsed := now.Sub(sw.countFrom)
	if elapsed < rateWindow && sw.counted < burstEvents {
		return
	}
	share := float64(sw.counted) / max(elapsed, time.Millisecond).Seconds() / fullHoldRate
	sw.gap = time.Duration(min(1, share*share) * float64(sw.maxHold))
	if elapsed >= rateWindow {
		sw.counted, sw.countFrom = 0, now
	}
}

func (sw *streamWriter) flushLater() {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.pending = false
	if !sw.finished && sw.dirty {
		sw.flush(sw.now())
	}
}

// cut makes the pending write and every later one fail at once.
func (sw *streamWriter) cut() {
	sw.dead.Store(true)
	_ = sw.out.setWriteDeadline(aLongTimeAgo)
}

// finish ends the stream's writing: what is left goes out, unless the
// stream was cut, and a raw connection is closed.
func (sw *streamWriter) finish() {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.finished = true
	if sw.timer != nil {
		sw.timer.Stop()
	}
	if sw.dirty && !sw.dead.Load() {
		_ = sw.out.setWriteDeadline(sw.now().Add(sw.timeout))
		sw.out.flush()
	}
	sw.out.close()
}

// flush sends buffered data now. The caller holds mu.
func (sw *streamWriter) flush(now time.Time) {
	if sw.arm(now) != nil {
		return
	}
	if sw.dirty {
		sw.lastWrite = now
	}
	err := sw.out.flush()
	sw.dirty = false
	if !sw.out.keepsDeadline() {
		sw.deadline = time.Time{}
	}
	if err != nil {
		sw.fail()
	}
}

// fail ends the stream after a write failed. The caller holds mu; failed
// takes no lock of the writer's.
func (sw *streamWriter) fail() {
	sw.cut()
	if sw.failed != nil {
		sw.failed()
	}
}

// arm makes sure a write has at least half the timeout before its
// deadline. Setting a deadline costs a timer update, so it is moved only
// when less than half is left, not for every flush: a stuck client is cut
// after between half the timeout and all of it. The caller holds mu.
func (sw *streamWriter) arm(now time.Time) error {
	if sw.dead.Load() {
		return errCut
	}
	if sw.deadline.Sub(now) < sw.timeout/2 {
		sw.deadline = now.Add(sw.timeout)
		_ = sw.out.setWriteDeadline(sw.deadline)
		// A cut between the check and the new deadline must still win.
		if sw.dead.Load() {
			_ = sw.out.setWriteDeadline(aLongTimeAgo)
			return errCut
		}
	}
	return nil
}

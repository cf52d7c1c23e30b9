package hub

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// streamWriter sits between an outlet and the client's sink. It puts a
// deadline on every write (a server-wide WriteTimeout would kill every
// stream), fails writes at once after a cut, and coalesces flushes.
//
// Coalescing: each connection has a budget of writes (a token bucket of
// flushRate per second, bursts of flushBurst). Within budget a flush goes
// out at once; beyond it, the flush waits for the next token and whatever
// else arrives meanwhile shares that write. A chat's usual trickle of
// events is never delayed, while a very busy connection costs a bounded
// number of system calls however many events it carries.
type streamWriter struct {
	out        sink
	timeout    time.Duration
	flushRate  float64 // writes per second once the burst is spent
	flushBurst float64
	dead       atomic.Bool // cut off
	failed     func()      // a write failed: the connection is over

	mu       sync.Mutex // the outlet writes while the flush timer may fire
	armed    bool       // the write deadline is set for the pending data
	finished bool       // the stream is over: the writer is no longer ours
	dirty    bool       // data written since the last flush
	pending  bool       // the timer will flush
	tokens   float64
	last     time.Time // when tokens were last counted
	timer    *time.Timer
}

func (h *Hub) newStreamWriter(out sink) *streamWriter {
	return &streamWriter{out: out, timeout: h.opt.WriteTimeout, flushRate: h.opt.FlushRate,
		flushBurst: float64(h.opt.FlushBurst), tokens: float64(h.opt.FlushBurst), last: time.Now()}
}

func (sw *streamWriter) Write(p []byte) (int, error) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.finished {
		return 0, errCut
	}
	if err := sw.arm(); err != nil {
		return 0, err
	}
	sw.dirty = true
	return sw.out.Write(p)
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

func (sw *streamWriter) Flush() {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.finished || sw.pending {
		return // the coming flush takes this data too
	}
	now := time.Now()
	sw.tokens = min(sw.flushBurst, sw.tokens+now.Sub(sw.last).Seconds()*sw.flushRate)
	sw.last = now
	if sw.tokens >= 1 {
		sw.tokens--
		sw.flush()
		return
	}
	wait := time.Duration((1 - sw.tokens) / sw.flushRate * float64(time.Second))
	sw.pending = true
	if sw.timer == nil {
		sw.timer = time.AfterFunc(wait, sw.flushLater)
	} else {
		sw.timer.Reset(wait)
	}
}

func (sw *streamWriter) flushLater() {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.pending = false
	now := time.Now()
	sw.tokens = max(0, sw.tokens+now.Sub(sw.last).Seconds()*sw.flushRate-1)
	sw.last = now
	if !sw.finished && sw.dirty {
		sw.flush()
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
		_ = sw.out.setWriteDeadline(time.Now().Add(sw.timeout))
		sw.out.flush()
	}
	sw.out.close()
}

// flush sends buffered data now. The caller holds mu.
func (sw *streamWriter) flush() {
	if sw.arm() != nil {
		return
	}
	err := sw.out.flush()
	sw.armed, sw.dirty = false, false
	if err != nil {
		sw.cut()
		if sw.failed != nil {
			sw.failed()
		}
	}
}

// arm sets the write deadline once per flush: an event is written in
// several small writes, and several events may share a flush. The caller
// holds mu.
func (sw *streamWriter) arm() error {
	if sw.dead.Load() {
		return errCut
	}
	if !sw.armed {
		_ = sw.out.setWriteDeadline(time.Now().Add(sw.timeout))
		sw.armed = true
		// A cut between the check and the new deadline must still win.
		if sw.dead.Load() {
			_ = sw.out.setWriteDeadline(aLongTimeAgo)
			return errCut
		}
	}
	return nil
}

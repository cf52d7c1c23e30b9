package hub

import (
	"net/http"
	"sync"
	"time"
)

// streamWriter sits between r3labs and the client (through a sink). It puts a deadline on
// every write (a server-wide WriteTimeout would kill every stream), fails
// writes at once after a cut, runs the replay on the first Flush (r3labs
// flushes right after it has subscribed the connection: exactly when a
// replay can no longer miss a live message), and coalesces flushes.
//
// Coalescing: each connection has a budget of writes (a token bucket of
// flushRate per second, bursts of flushBurst). Within budget a flush goes
// out at once; beyond it, the flush waits for the next token and whatever
// else arrives meanwhile shares that write. A chat's usual trickle of
// events is never delayed, while a very busy connection costs a bounded
// number of system calls however many events it carries.
type streamWriter struct {
	out          sink
	c            *conn
	timeout      time.Duration
	flushRate    float64 // writes per second once the burst is spent
	flushBurst   float64
	onSubscribed func()

	mu         sync.Mutex // r3labs' goroutine writes while the flush timer may fire
	armed      bool       // the write deadline is set for the pending data
	subscribed bool
	finished   bool // the handler returned: the writer is no longer ours
	dirty      bool // data written since the last flush
	pending    bool // the timer will flush
	tokens     float64
	last       time.Time // when tokens were last counted
	timer      *time.Timer
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
	}
}

func (sw *streamWriter) Flush() {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.finished {
		return
	}
	now := time.Now()
	if !sw.subscribed {
		sw.subscribed = true
		sw.flush() // headers first, so the client sees the stream open at once
		sw.onSubscribed()
		sw.flush()
		return
	}
	if sw.pending {
		return // the coming flush takes this data too
	}
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

// finish ends the stream's writing: what is left goes out (net/http does
// that itself for its own sink) and a raw connection is closed.
func (sw *streamWriter) finish() {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.finished = true
	if sw.timer != nil {
		sw.timer.Stop()
	}
	if sw.c.ended.Load() && !sw.c.killed.Load() {
		// r3labs has returned, so no event is half written: the notice
		// goes after whole events only.
		sw.out.Write(signedOutBlock)
		sw.out.signedOut()
		sw.dirty = true
	}
	if sw.dirty && !sw.c.killed.Load() {
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
		sw.c.kill()
	}
}

// arm sets the write deadline once per flush: r3labs writes an event in
// several small writes, and several events may share a flush. The caller
// holds mu.
func (sw *streamWriter) arm() error {
	if sw.c.killed.Load() {
		return errCut
	}
	if !sw.armed {
		_ = sw.out.setWriteDeadline(time.Now().Add(sw.timeout))
		sw.armed = true
		// A kill between the check and the new deadline must still win.
		if sw.c.killed.Load() {
			_ = sw.out.setWriteDeadline(aLongTimeAgo)
			return errCut
		}
	}
	return nil
}

// send writes one replayed event in the same framing r3labs uses. It runs
// inside onSubscribed, so mu is held.
func (sw *streamWriter) send(id int64, event string, data []byte) error {
	sw.armed = false // each replayed event gets its own deadline
	if err := sw.arm(); err != nil {
		return err
	}
	if _, err := sw.out.Write(appendEvent(nil, id, event, data)); err != nil {
		sw.c.kill()
		return errCut
	}
	return nil
}

func (sw *streamWriter) wasSubscribed() bool {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.subscribed
}

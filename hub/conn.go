package hub

import (
	"context"
	"sync"
	"sync/atomic"
)

// outlet is one connection's transport: its queue, and how queued events
// reach the client. r3labs.go has the SSE one, ws.go and doc.go the others.
type outlet interface {
	// offer queues ev without waiting; false when the queue is full.
	offer(ev *Event) bool
	// put queues ev, waiting for room; it fails once ctx ends.
	put(ctx context.Context, ev *Event) error
	// serve writes queued events to the client until an end event, a cut
	// or the client's leaving. It calls ready, once, as soon as an offer
	// can no longer be lost.
	serve(ctx context.Context, ready func())
	// cut makes every pending and future write fail at once.
	cut()
	// close lets go of the client once serve has returned. ended tells
	// whether the stream ended in order with an end event, and why.
	close(ended bool, why endReason)
}

// offered is what became of an event offered to a connection.
type offered uint8

const (
	queued  offered = iota
	full            // the reader lags: cut it off
	closing         // the connection is ending in order anyway
)

// conn is one open stream connection (one browser tab, socket or frame).
//
// Until its outlet is ready and its replay is done, live events offered to
// it are held back, then queued after the replay: a client that drops out
// midway resumes from the last id it got, and every event before that id
// has reached it. Without holding, a live event could overtake the replay
// and move the client's resume point past events it never received.
type conn struct {
	out       outlet
	transport string // "sse", "ws" or "doc", for metrics and logs
	ctx       context.Context
	cancel    context.CancelFunc
	killed    atomic.Bool
	ended     atomic.Bool // finish queued the end: the client takes no more posts

	// session names the sign-in the connection was opened with; valid
	// re-checks it (nil: never).
	session string
	valid   func() bool
	guest   bool // a room's read-only guest: no per-user limits
	light   bool // sent Save-Data: wants no typing or presence events
	chose   bool // its user chose light mode, as Options.Light said at connect

	mu      sync.Mutex
	holding bool             // until ready and replayed
	held    []*Event         // live events offered while holding
	heldMax int              // of each kind: lossy (typing, presence) and the rest
	closing bool             // the end event is queued: nothing more goes in
	why     endReason        // the end event's reason
	lastID  int64            // the newest id queued, for notices without their own
	sidebar map[int64][]byte // room → the newest sidebar update held back (see PublishSidebar)
	// missed holds the rooms whose presence event did not fit: the client
	// shows someone's presence wrong until it gets the room's whole.
	missed  map[int64]struct{}
	missing atomic.Bool // missed is not empty: for a cheap look from the flush
}

func newConn(transport string, out outlet, heldMax int) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{out: out, transport: transport, ctx: ctx, cancel: cancel, holding: true, heldMax: heldMax}
}

// offer queues a live event without waiting.
func (c *conn) offer(ev *Event) offered {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offerLocked(ev)
}

func (c *conn) offerLocked(ev *Event) offered {
	switch {
	case c.closing || c.killed.Load():
		return closing
	case c.holding && c.holdFull(ev), !c.holding && !c.out.offer(ev):
		c.miss(ev)
		return full
	case c.holding:
		c.held = append(c.held, ev)
	}
	if ev.kind == kindData {
		c.lastID = ev.ID
	}
	return queued
}

// send queues one replayed event, waiting for room: the replay runs before
// anything held goes out.
func (c *conn) send(id int64, name string, data []byte) error {
	ev := newEvent(id, name, data)
	if ev == nil {
		return nil
	}
	if c.killed.Load() || c.out.put(c.ctx, ev) != nil {
		return errCut
	}
	c.mu.Lock()
	c.lastID = ev.ID
	c.mu.Unlock()
	return nil
}

// release queues what was held back during the replay; from now on live
// events are queued as they come. The messages go first, in order, then
// typing and presence, in order: those are only the latest word, so they
// never take the room a message needs. One of them that does not fit is
// dropped, as one offered to a full queue would be (see publishLiveTo);
// false if a message did not fit. If the stream was ended meanwhile, its
// end is the last message and nothing follows it: r3labs/sse stops reading
// at the end, and more than its subscriber's queue holds behind it would
// block its stream goroutine for good, and with it the unsubscribe that
// closing the connection waits for.
func (c *conn) release() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	held := c.held
	c.held, c.holding = nil, false
	for _, ev := range held {
		if !ev.lossy && !c.out.offer(ev) {
			return false
		}
	}
	if c.closing {
		return true
	}
	for _, ev := range held {
		if ev.lossy && !c.out.offer(ev) {
			c.miss(ev)
		}
	}
	return true
}

// miss notes a presence event that did not fit. The caller holds c.mu.
func (c *conn) miss(ev *Event) {
	if ev.presenceOf == 0 {
		return
	}
	if c.missed == nil {
		c.missed = make(map[int64]struct{})
	}
	c.missed[ev.presenceOf] = struct{}{}
	c.missing.Store(true)
}

// takeMissed returns the rooms whose presence c missed, and forgets them.
func (c *conn) takeMissed() map[int64]struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.missed
	c.missed = nil
	c.missing.Store(false)
	return m
}

// holdFull reports whether the hold has no more room for ev's kind. Lossy
// events have room of their own: a burst of typing during a replay never
// takes a message's place in the hold. The caller holds c.mu.
func (c *conn) holdFull(ev *Event) bool {
	same := 0
	for _, h := range c.held {
		if h.lossy == ev.lossy {
			same++
		}
	}
	return same >= c.heldMax
}

// finish ends the connection in order: what is queued goes out, then
// notice (if any: why the stream ends), then the end. A notice carries the
// newest id already queued, so the client's resume point stays put. It
// reports whether this call did the ending; if the queue is full the
// connection is killed instead.
func (c *conn) finish(notice func(lastID int64) *Event, why endReason) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.killed.Load() {
		return false
	}
	if why == endSignedOut {
		c.ended.Store(true)
	}
	if (notice != nil && c.offerLocked(notice(c.lastID)) != queued) || c.offerLocked(endEvents[why]) != queued {
		c.kill()
		return true
	}
	c.closing, c.why = true, why
	return true
}

// end closes the connection because its sign-in is over: what is queued
// goes out whole, then SignedOutEvent, so the page stops reconnecting and
// says so.
func (c *conn) end() bool { return c.finish(signedOutNotice, endSignedOut) }

// kill ends the connection now: every write fails at once and whatever is
// queued is dropped. It reports whether this call did the killing. It
// takes no lock: callers may hold c.mu.
func (c *conn) kill() bool {
	if c.killed.Swap(true) {
		return false
	}
	c.cancel()
	c.out.cut()
	return true
}

// endedInOrder reports whether the stream ended with its end event, and
// why: how its outlet should let the client go.
func (c *conn) endedInOrder() (bool, endReason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing && !c.killed.Load(), c.why
}

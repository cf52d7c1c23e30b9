package handlers

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// commit is what one committed batch hands the relay through one of the
// store's hooks: its messages, or its receipts, or its read marks, the
// latter two with the newest event id committed so far. A commit with
// reached set is a Sync marker instead.
type commit struct {
	msgs     []chat.Message
	receipts []chat.Receipt
	reads    []chat.ReadState
	lastID   int64
	reached  chan struct{}
	queued   time.Time // when it was reported; set only when the relay meters waits
}

// backlog is the relay's queue: the commits reported but not yet
// published, oldest first. It is unbounded, so the store's writer never
// waits on the relay and nothing committed is dropped or reordered. It
// holds only what the store already built, and the relay's work per event
// (one render, hands that never block) costs far less than the commit
// that made it, so it stays near empty; its length and peak are reported,
// and a long one is logged. A bounded queue would have to re-read what
// overflowed from the store, re-deriving receipts and read marks too.
type backlog struct {
	mu     sync.Mutex
	items  []commit
	spare  []commit // the slice the relay last drained, reused
	closed bool
	wake   chan struct{} // one token: there is something to take, or closed

	waiting atomic.Int64 // commits queued or being published
	peak    atomic.Int64
}

func newBacklog() *backlog {
	return &backlog{wake: make(chan struct{}, 1)}
}

// push queues c and returns how many commits now wait; ok is false once
// closed. The count goes up under the lock, before the relay can take c
// and count it off: counted after, it could dip below zero for a moment.
func (b *backlog) push(c commit) (n int64, ok bool) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return 0, false
	}
	b.items = append(b.items, c)
	n = b.waiting.Add(1)
	b.mu.Unlock()
	for p := b.peak.Load(); n > p && !b.peak.CompareAndSwap(p, n); p = b.peak.Load() {
	}
	b.signal()
	return n, true
}

func (b *backlog) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// take waits for queued commits and returns all of them, oldest first;
// open is false once the backlog is closed and nothing is left. The
// caller calls done with their count once they are published.
func (b *backlog) take() (batch []commit, open bool) {
	for {
		b.mu.Lock()
		if len(b.items) > 0 {
			batch = b.items
			b.items, b.spare = b.spare[:0], nil
			b.mu.Unlock()
			return batch, true
		}
		closed := b.closed
		b.mu.Unlock()
		if closed {
			return nil, false
		}
		<-b.wake
	}
}

// keepSpare is the most commits a drained slice may hold and still be
// reused: one grown by a long backlog is let go with it.
const keepSpare = 4096

// done returns a published batch (the relay counts each commit off
// waiting as it goes): its slice is reused, emptied so the messages it
// held can be freed.
func (b *backlog) done(batch []commit) {
	if cap(batch) > keepSpare {
		return
	}
	clear(batch)
	b.mu.Lock()
	b.spare = batch[:0]
	b.mu.Unlock()
}

// close refuses further commits; take still returns those queued.
func (b *backlog) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.signal()
}

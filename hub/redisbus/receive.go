package redisbus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

var errNoPong = errors.New("redisbus: no answer to ping")

// receive keeps a subscription up until Close, rebuilding it (and catching
// up) whenever it breaks.
func (b *Bus) receive() {
	retry := newBackoff()
	for b.ctx.Err() == nil {
		up, err := b.subscription()
		if b.ctx.Err() != nil {
			return
		}
		b.health.subscribed(err)
		if up {
			retry.reset()
		}
		select {
		case <-retry.wait():
		case <-b.ctx.Done():
		}
	}
}

// subscription subscribes, catches up, and applies what arrives until the
// connection fails or Redis stops answering pings. up reports whether it
// got as far as a live subscription.
func (b *Bus) subscription() (up bool, err error) {
	ps := b.client.Subscribe(b.ctx, b.channel)
	defer ps.Close()
	// The read below does not watch the context; closing the connection
	// ends it at once when the bus closes.
	defer context.AfterFunc(b.ctx, func() { ps.Close() })()
	seen := map[uint64]heard{} // origin → its last envelope
	pinged := false
	heardAt := time.Now() // when Redis last showed it was there
	defer func() {
		if up && b.ctx.Err() == nil {
			b.gaps.begin(heardAt) // what came after may be lost
		}
	}()
	for b.ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(b.ctx, b.opt.PingEvery)
		if err != nil {
			if !isTimeout(err) {
				return up, err
			}
			if err := b.silentNodes(seen, time.Now()); err != nil {
				return up, err
			}
			if pinged {
				return up, errNoPong
			}
			if err := ps.Ping(b.ctx); err != nil {
				return up, err
			}
			pinged = true
			continue
		}
		pinged = false // anything at all shows the connection is alive
		heardAt = time.Now()
		if err := b.silentNodes(seen, heardAt); err != nil {
			return up, err
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				// From here on nothing published is missed; what was
				// missed before is in the database. The gap is recorded
				// before the streams are told to resume (catchUp).
				up = true
				b.gaps.end(heardAt)
				if err := b.catchUp("subscribed"); err != nil {
					return up, err
				}
				b.health.subscribed(nil)
				clear(seen)
			}
		case *redis.Message:
			if err := b.received(m.Payload, seen, heardAt); err != nil {
				return up, err
			}
		}
	}
	return up, b.ctx.Err()
}

// heard is the last envelope from one other node: its sequence number and
// when it came, and until when that shows the node alive.
type heard struct {
	seq     uint64
	at      time.Time
	valid   time.Duration // how long its heartbeat holds
	aliveTo time.Time
}

// silentNodes catches up when a node whose heartbeats stopped is found:
// it died (kill -9, a lost machine) or lost Redis, and what it committed
// since it was last heard may never come. Its span goes to gaps, so that
// streams resuming now replay from before it.
func (b *Bus) silentNodes(seen map[uint64]heard, now time.Time) error {
	for origin, h := range seen {
		if h.aliveTo.IsZero() || now.Before(h.aliveTo) {
			continue
		}
		delete(seen, origin)
		b.log.Warn("bus: a node went silent; catching up from the database", "node", origin, "last heard", h.at)
		b.gaps.add(h.at, now)
		if err := b.catchUp("a node went silent"); err != nil {
			return err
		}
	}
	return nil
}

// received applies one envelope, or catches up when the sender says it
// lost ops or its sequence shows a gap.
func (b *Bus) received(payload string, seen map[uint64]heard, now time.Time) error {
	e, err := decode([]byte(payload))
	if err != nil {
		b.log.Warn("bus: ignoring a message", "err", err)
		return nil
	}
	if e.origin == b.origin {
		return nil // applied locally when it was made
	}
	last, known := seen[e.origin]
	// Anything it sends shows a node alive for as long as its heartbeat
	// would (its own word on that, once a heartbeat came; else ours).
	h := heard{seq: e.seq, at: now, valid: cmp.Or(last.valid, 3*b.opt.ShareEvery)}
	if e.op == opHere {
		h.valid = time.Duration(e.a) * time.Millisecond
	}
	h.aliveTo = now.Add(h.valid)
	seen[e.origin] = h
	switch {
	case e.op == opResync:
		b.gaps.add(time.UnixMilli(e.a), time.UnixMilli(e.b))
		return b.catchUp("a node lost messages while Redis was away")
	case known && e.seq != last.seq+1:
		b.log.Warn("bus: messages from another node went missing", "expected", last.seq+1, "got", e.seq)
		b.gaps.add(last.at, now)
		if err := b.catchUp("gap"); err != nil {
			return err
		}
	}
	b.apply(e)
	return nil
}

func (b *Bus) catchUp(why string) error {
	b.log.Debug("bus: catching up from the database", "why", why)
	if err := b.opt.CatchUp(b.ctx); err != nil {
		return fmt.Errorf("redisbus: catch up: %w", err)
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

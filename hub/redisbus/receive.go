package redisbus

import (
	"context"
	"errors"
	"fmt"
	"net"

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
	seen := map[uint64]uint64{} // origin → last sequence number
	pinged := false
	for b.ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(b.ctx, b.opt.PingEvery)
		if err != nil {
			if !isTimeout(err) {
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
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				// From here on nothing published is missed; what was
				// missed before is in the database.
				up = true
				if err := b.catchUp("subscribed"); err != nil {
					return up, err
				}
				b.health.subscribed(nil)
				clear(seen)
			}
		case *redis.Message:
			if err := b.received(m.Payload, seen); err != nil {
				return up, err
			}
		}
	}
	return up, b.ctx.Err()
}

// received applies one envelope, or catches up when the sender says it
// lost ops or its sequence shows a gap.
func (b *Bus) received(payload string, seen map[uint64]uint64) error {
	e, err := decode([]byte(payload))
	if err != nil {
		b.log.Warn("bus: ignoring a message", "err", err)
		return nil
	}
	if e.origin == b.origin {
		return nil // applied locally when it was made
	}
	last, known := seen[e.origin]
	seen[e.origin] = e.seq
	switch {
	case e.op == opResync:
		return b.catchUp("a node lost messages while Redis was away")
	case known && e.seq != last+1:
		b.log.Warn("bus: messages from another node went missing", "expected", last+1, "got", e.seq)
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

package redisbus

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// errConnecting is the state before the first subscription: degraded,
// but no outage to log yet.
var errConnecting = errors.New("not connected yet")

// health is what the bus knows of Redis: whether the subscription is live
// and whether the last publish went through. Only a change between healthy
// and degraded is logged, once each way, however many retries fail in
// between.
type health struct {
	log     *slog.Logger
	addr    string
	dropped atomic.Int64 // ops dropped from a full queue, not yet owed as a resync
	lost    atomic.Int64 // every op ever dropped, for metrics

	mu       sync.Mutex
	subErr   error // nil while subscribed
	pubErr   error // nil after a publish went through
	degraded bool
	logged   bool      // the current degraded state is in the log
	since    time.Time // when it became degraded
}

func (h *health) init(log *slog.Logger, addr, channel string) {
	h.log = log.With("redis", addr, "channel", channel)
	h.addr = addr
	h.subErr, h.degraded, h.since = errConnecting, true, time.Now()
}

func (h *health) subscribed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subErr = err
	h.changed()
}

func (h *health) published(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pubErr = err
	h.changed()
}

// changed logs a change of state. The caller holds h.mu.
func (h *health) changed() {
	err := h.first()
	switch {
	case err == nil && h.degraded:
		if h.logged {
			h.log.Info("bus back: every stream catches up from the database", "after", time.Since(h.since).Round(time.Millisecond))
		} else {
			h.log.Info("bus connected")
		}
		h.degraded, h.logged = false, false
	case err != nil && !h.degraded:
		h.degraded, h.since = true, time.Now()
		fallthrough
	case err != nil && !h.logged && err != errConnecting:
		h.logged = true
		h.log.Warn("bus degraded: live updates between nodes paused, posting goes on", "err", err)
	}
}

func (h *health) first() error {
	if h.subErr != nil {
		return h.subErr
	}
	return h.pubErr
}

func (h *health) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	err := h.first()
	if err == nil {
		return nil
	}
	return fmt.Errorf("redis bus at %s unreachable for %s: %w", h.addr, time.Since(h.since).Round(time.Second), err)
}

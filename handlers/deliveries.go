package handlers

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DeliveryRecorder stores that announcement copies reached their recipients.
type DeliveryRecorder interface {
	MarkDelivered(ctx context.Context, messages []int64) error
}

// Record starts recording, with rec, the announcement copies the relay
// hands to an open stream of their recipient. Without it they are counted
// only when recipients load them. Close stops it.
func (rl *Relay) Record(rec DeliveryRecorder) { rl.rec.start(rec) }

// Delivered records announcement copies that another node's relay
// published and that reached a stream of their recipient on this node
// (see redisbus.Options.Delivered).
func (rl *Relay) Delivered(ids ...int64) { rl.rec.add(ids) }

// deliveries writes the relay's deliveries on a goroutine of its own: a
// write waits for a commit, and publishing must not wait for one.
type deliveries struct {
	log       *slog.Logger
	recording atomic.Bool
	mu        sync.Mutex
	ids       []int64
	wake      chan struct{}
	quit      chan struct{}
	stopped   chan struct{}
	stopOnce  sync.Once
}

func (d *deliveries) start(rec DeliveryRecorder) {
	d.wake, d.quit, d.stopped = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	d.recording.Store(true)
	go func() {
		defer close(d.stopped)
		for {
			select {
			case <-d.wake:
				d.flush(rec)
			case <-d.quit:
				d.flush(rec)
				return
			}
		}
	}()
}

func (d *deliveries) add(ids []int64) {
	if len(ids) == 0 || !d.recording.Load() {
		return
	}
	d.mu.Lock()
	d.ids = append(d.ids, ids...)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// stop records what waits and stops recording.
func (d *deliveries) stop() {
	if !d.recording.Load() {
		return
	}
	d.stopOnce.Do(func() {
		close(d.quit)
		<-d.stopped
	})
}

// flush writes every waiting delivery in one go: under a burst the list
// grows while the previous write commits, so writes stay few.
func (d *deliveries) flush(rec DeliveryRecorder) {
	d.mu.Lock()
	ids := d.ids
	d.ids = nil
	d.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rec.MarkDelivered(ctx, ids); err != nil {
		d.log.Warn("record announcement deliveries", "count", len(ids), "err", err)
	}
}

package handlers

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Fanout is where committed messages go: the hub.
type Fanout interface {
	Publish(room, id int64, data []byte)
	PublishExcept(room, except, id int64, data []byte) (reached int)
	PublishTo(user, id int64, data []byte) bool
	Join(room, user int64)
	Leave(room, user int64)
}

// DeliveryRecorder stores that announcement copies reached their recipients.
type DeliveryRecorder interface {
	MarkDelivered(ctx context.Context, messages []int64) error
}

// Relay turns committed messages into stream events. The store calls
// Committed from its single writer in commit order, so events are published
// in id order, and each message is rendered once for all its readers.
type Relay struct {
	out Fanout
	log *slog.Logger

	// Deliveries seen while publishing wait here for the recorder: the
	// writer's goroutine, which publishes, must never wait on a write.
	recording atomic.Bool
	mu        sync.Mutex
	delivered []int64
	wake      chan struct{}
	stop      chan struct{}
	stopped   chan struct{}
}

// NewRelay returns a Relay publishing to out.
func NewRelay(out Fanout, log *slog.Logger) *Relay {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Relay{out: out, log: log, wake: make(chan struct{}, 1)}
}

// Committed publishes msgs. Membership changes take effect before their
// system line goes out: a joiner sees their own join, a leaver gets nothing
// more from the room. An announcement's copy goes to its recipient only;
// one that reaches an open stream counts as delivered.
func (rl *Relay) Committed(msgs []chat.Message) {
	var delivered []int64
	for _, m := range msgs {
		switch m.Kind {
		case chat.KindJoin:
			rl.out.Join(m.RoomID, m.AuthorID)
		case chat.KindLeave, chat.KindRemoved:
			rl.out.Leave(m.RoomID, m.AuthorID)
		}
		if m.Silent() {
			continue
		}
		data, err := renderEvent(context.Background(), m)
		if err != nil {
			// Readers still get it from history or a replay.
			rl.log.Error("render message for stream", "id", m.ID, "err", err)
			continue
		}
		switch {
		case m.Kind != chat.KindAnnouncement || m.Changed > 0:
			// A change to an announcement copy reaches its sender's
			// streams too: harmless, as they hold no copy to change.
			rl.out.Publish(m.RoomID, m.EventID(), data)
		case rl.out.PublishExcept(m.RoomID, m.AuthorID, m.ID, data) > 0:
			delivered = append(delivered, m.ID)
		}
	}
	if len(delivered) > 0 {
		rl.queueDelivered(delivered)
	}
}

// Receipts sends each announcement's new counts to its sender's streams.
// lastID is the newest message id already published, so the event's id
// never moves a stream past a message it has not had.
func (rl *Relay) Receipts(lastID int64, receipts []chat.Receipt) {
	for _, r := range receipts {
		data, err := renderReceipt(context.Background(), r)
		if err != nil {
			rl.log.Error("render receipt for stream", "announcement", r.AnnouncementID, "err", err)
			continue
		}
		rl.out.PublishTo(r.SenderID, lastID, data)
	}
}

func (rl *Relay) queueDelivered(ids []int64) {
	if !rl.recording.Load() {
		return
	}
	rl.mu.Lock()
	rl.delivered = append(rl.delivered, ids...)
	rl.mu.Unlock()
	select {
	case rl.wake <- struct{}{}:
	default:
	}
}

// Record starts recording deliveries with rec until Stop. Without it they
// are counted only when recipients load them.
func (rl *Relay) Record(rec DeliveryRecorder) {
	rl.stop, rl.stopped = make(chan struct{}), make(chan struct{})
	rl.recording.Store(true)
	go func() {
		defer close(rl.stopped)
		for {
			select {
			case <-rl.wake:
				rl.flushDelivered(rec)
			case <-rl.stop:
				rl.flushDelivered(rec)
				return
			}
		}
	}()
}

// Stop records the deliveries still waiting and stops recording. Call it
// before closing the store.
func (rl *Relay) Stop() {
	if rl.stop == nil {
		return
	}
	close(rl.stop)
	<-rl.stopped
}

// flushDelivered writes every waiting delivery in one go: under a burst the
// queue grows while the previous write commits, so writes stay few.
func (rl *Relay) flushDelivered(rec DeliveryRecorder) {
	rl.mu.Lock()
	ids := rl.delivered
	rl.delivered = nil
	rl.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rec.MarkDelivered(ctx, ids); err != nil {
		rl.log.Warn("record announcement deliveries", "count", len(ids), "err", err)
	}
}

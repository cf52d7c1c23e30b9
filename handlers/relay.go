package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Fanout is where the relay's events go: the hub, or a bus that carries
// them to every node's hub. Join and Leave come in order with the events,
// so a membership change takes effect before the room's next event.
type Fanout interface {
	Publish(room, id int64, data []byte)
	PublishExcept(room, except, id int64, data []byte) (reached int)
	PublishTo(user, id int64, data []byte) bool
	// PublishSidebar sends a user's sidebar update about a room; streams
	// that save data get them coalesced.
	PublishSidebar(user, room, id int64, data []byte) bool
	Join(room, user int64)
	Leave(room, user int64)
}

// backlogWarn is the queue length at which the relay logs that it is
// falling behind (once each time it gets there).
const backlogWarn = 10000

// Relay turns committed events into stream events. The store's hooks
// (Committed, Receipts, Reads) only queue what each batch committed; the
// relay's own goroutine renders each event once for all its readers (or
// takes the rendering the answer to its post made, Fragments) and hands it
// to out, in commit order. Nothing slow runs on the store's single
// writer. A stream that connects in between misses nothing: the hub
// subscribes it before its replay reads the store, so a commit not yet
// published is replayed, then arrives live again (and replaces itself).
type Relay struct {
	out  Fanout
	log  *slog.Logger
	q    *backlog
	done chan struct{} // closed when the goroutine has published everything
	rec  deliveries
	// frags keeps what it renders for the answers to the posts (Fragments).
	frags *Fragments
	// waited, if set, hears how long each commit waited to be published.
	waited func(time.Duration)
}

// NewRelay starts a Relay publishing to out. Close stops it.
func NewRelay(out Fanout, log *slog.Logger) *Relay {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rl := &Relay{out: out, log: log, q: newBacklog(), done: make(chan struct{}), frags: NewFragments()}
	rl.rec.log = log
	go rl.run()
	return rl
}

// Fragments is where the relay keeps the fragments it renders; give it to
// the handlers (Deps.Fragments) so that a post's answer reuses them.
func (rl *Relay) Fragments() *Fragments { return rl.frags }

// Committed queues a committed batch's messages (store.Options.OnCommit).
func (rl *Relay) Committed(msgs []chat.Message) { rl.queue(commit{msgs: msgs}) }

// Receipts queues a batch's announcement receipts (store.Options.OnReceipts).
// lastID, the newest event id committed with or before them, becomes their
// event id: published after those events, it never moves a stream past an
// event it has not had.
func (rl *Relay) Receipts(lastID int64, receipts []chat.Receipt) {
	rl.queue(commit{receipts: receipts, lastID: lastID})
}

// Reads queues a batch's moved read marks (store.Options.OnReads); lastID
// as for Receipts.
func (rl *Relay) Reads(lastID int64, reads []chat.ReadState) {
	rl.queue(commit{reads: reads, lastID: lastID})
}

// MeterWaits has the relay report, for each commit it publishes, how long
// it waited from its report until it was handed on (for the metrics).
// Call it before the first commit; waited runs on the relay's goroutine
// and must be quick.
func (rl *Relay) MeterWaits(waited func(time.Duration)) { rl.waited = waited }

func (rl *Relay) queue(c commit) {
	if rl.waited != nil {
		c.queued = time.Now()
	}
	if n, _ := rl.q.push(c); n == backlogWarn {
		rl.log.Warn("stream relay falling behind", "commits_waiting", n)
	}
}

// Backlog reports how many commits wait to be published, and the most
// that ever did.
func (rl *Relay) Backlog() (waiting, peak int64) {
	return rl.q.waiting.Load(), rl.q.peak.Load()
}

// Sync waits until everything committed before it was called has been
// handed to out, or ctx ends.
func (rl *Relay) Sync(ctx context.Context) error {
	reached := make(chan struct{})
	if _, ok := rl.q.push(commit{reached: reached}); !ok {
		reached = rl.done // closing: Close publishes everything
	}
	select {
	case <-reached:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close publishes everything still queued, records the deliveries waiting
// and stops. Commits reported after it are dropped: close it after the
// last write it should publish, and before the store closes, as
// deliveries are written there.
func (rl *Relay) Close() {
	rl.q.close()
	<-rl.done
	rl.rec.stop()
}

func (rl *Relay) run() {
	defer close(rl.done)
	for {
		batch, open := rl.q.take()
		if !open {
			return
		}
		for _, c := range batch {
			if c.reached != nil {
				// Counted before its waiter wakes: after Sync, Backlog
				// holds only what came later.
				rl.q.waiting.Add(-1)
				close(c.reached)
				continue
			}
			rl.publish(c)
			if rl.waited != nil {
				rl.waited(time.Since(c.queued))
			}
			rl.q.waiting.Add(-1)
		}
		rl.q.done(batch)
	}
}

func (rl *Relay) publish(c commit) {
	switch {
	case len(c.msgs) > 0:
		rl.rec.add(rl.publishMessages(c.msgs))
	case len(c.receipts) > 0:
		rl.publishReceipts(c.lastID, c.receipts)
	default:
		rl.publishReads(c.lastID, c.reads)
	}
}

// publishMessages renders and publishes msgs and returns the announcement
// copies that reached their recipient. Membership changes take effect
// before their system line goes out: a joiner sees their own join, a
// leaver gets nothing more from the room. An announcement's copy goes to
// its recipient only.
func (rl *Relay) publishMessages(msgs []chat.Message) (delivered []int64) {
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
		data, err := rl.frags.Message(context.Background(), m)
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
	return delivered
}

// publishReceipts sends each announcement's new counts to its sender's
// streams.
func (rl *Relay) publishReceipts(lastID int64, receipts []chat.Receipt) {
	for _, r := range receipts {
		data, err := renderReceipt(context.Background(), r)
		if err != nil {
			rl.log.Error("render receipt for stream", "announcement", r.AnnouncementID, "err", err)
			continue
		}
		rl.out.PublishTo(r.SenderID, lastID, data)
	}
}

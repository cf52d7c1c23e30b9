package handlers

import (
	"context"
	"log/slog"

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

// Relay turns committed messages into stream events. The store calls
// Committed from its single writer in commit order, so events are published
// in id order, and each message is rendered once for all its readers.
type Relay struct {
	out Fanout
	log *slog.Logger
}

// NewRelay returns a Relay publishing to out.
func NewRelay(out Fanout, log *slog.Logger) *Relay {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Relay{out: out, log: log}
}

// Committed publishes msgs. Membership changes take effect before their
// system line goes out: a joiner sees their own join, a leaver gets nothing
// more from the room.
func (rl *Relay) Committed(msgs []chat.Message) {
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
		rl.out.Publish(m.RoomID, m.ID, data)
	}
}

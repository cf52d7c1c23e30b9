package handlers

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"

	"github.com/rtmessenger/rtmessenger/chat"
)

// removedEvent tells a person's pages that they were removed from a room:
// the pages drop its composer and say so. Its data is JSON: the room's id
// and the sentence to show.
//
// The hub cuts a removed person's streams at once (anything queued for
// them is dropped with the connection, so an event sent then could be
// lost); the browser resumes from the last id it saw, and the replay,
// which no longer carries the room, carries this event in the removal
// line's place. So it reaches only them, exactly at the point in the
// stream where it happened, and is rendered once.
const removedEvent = "rtm-removed"

// withRemovals merges into msgs, in id order, the lines after the resume
// point that removed u from rooms they are still out of, and marks them.
func (h *Handler) withRemovals(ctx context.Context, u chat.User, after int64, msgs []chat.Message) ([]chat.Message, map[int64]bool, error) {
	removals, err := h.rooms.Removals(ctx, u.ID, after)
	if err != nil || len(removals) == 0 {
		return msgs, nil, err
	}
	removed := make(map[int64]bool, len(removals))
	for _, m := range removals {
		removed[m.ID] = true
	}
	msgs = append(msgs, removals...)
	slices.SortFunc(msgs, func(a, b chat.Message) int { return cmp.Compare(a.EventID(), b.EventID()) })
	return msgs, removed, nil
}

// replayEvent is the event a replay sends for m: its fragment, or for a
// removal of the stream's own user, removedEvent.
func (h *Handler) replayEvent(ctx context.Context, m chat.Message, removal bool) (string, []byte, error) {
	if !removal {
		data, err := renderEvent(ctx, m)
		return "", data, err
	}
	room, err := h.store.RoomName(ctx, m.RoomID)
	if err != nil {
		return "", nil, err
	}
	data, err := json.Marshal(struct {
		Room int64  `json:"room"`
		Text string `json:"text"`
	}{m.RoomID, "You were removed from #" + room.Name + " by " + m.Body + "."})
	return removedEvent, data, err
}

package hub

import (
	"github.com/rtmessenger/rtmessenger/chat"
)

// Resync brings the hub back in line with the database after it may have
// missed events published on other nodes (the cross-node bus was down):
// members, read from the store after the bus came back, replaces the room
// index (a room's guests, whom the store does not know, are kept), and
// every open stream ends cleanly after what is already queued, as at
// shutdown, so its client reconnects and replays what it missed from its
// Last-Event-ID. Nothing is replayed here: the handlers' replay already
// knows how, for SSE and WebSocket alike.
func (h *Hub) Resync(members []chat.Membership) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.replaceRooms(members)
	all := make([]*user, 0, len(h.users))
	for _, u := range h.users {
		all = append(all, u)
	}
	h.mu.Unlock()

	for _, u := range all {
		h.finishAll(u, endResume)
	}
	if len(all) > 0 {
		h.log.Info("streams told to catch up", "users", len(all))
	}
}

// replaceRooms swaps the room index for members plus the guests already
// known. The caller holds h.mu for writing.
func (h *Hub) replaceRooms(members []chat.Membership) {
	old := h.rooms
	h.rooms = make(map[int64]map[int64]struct{}, len(old))
	h.memberOf = make(map[int64]map[int64]struct{}, len(h.memberOf))
	add := func(room, user int64) {
		if h.rooms[room] == nil {
			h.rooms[room] = make(map[int64]struct{})
		}
		h.rooms[room][user] = struct{}{}
		h.joined(room, user)
	}
	for _, m := range members {
		add(m.RoomID, m.UserID)
	}
	for room, users := range old {
		for u := range users {
			if u < 0 {
				add(room, u)
			} else if _, still := h.rooms[room][u]; !still {
				h.StoppedTyping(room, u) // as Leave does
			}
		}
	}
}

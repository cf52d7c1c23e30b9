package hub

import (
	"github.com/rtmessenger/rtmessenger/chat"
)

// Resync brings the hub back in line with the database after it may have
// missed events published on other nodes (the cross-node bus was down):
// the memberships read returns, read from the store after the bus came
// back, replace the room index (a room's guests, whom the store does not
// know, are kept), and every open stream ends cleanly after what is
// already queued, as at shutdown, so its client reconnects and replays
// what it missed from its Last-Event-ID. Nothing is replayed here: the
// handlers' replay already knows how, for SSE and WebSocket alike.
//
// Joins and leaves that come while read runs (this node's relay goes on)
// are applied again over what it read: the read may have been made before
// them, and replacing the index with it would undo them.
func (h *Hub) Resync(read func() ([]chat.Membership, error)) error {
	h.mu.Lock()
	h.resyncing++
	h.mu.Unlock()
	members, err := read()
	h.mu.Lock()
	h.resyncing--
	moves := h.moves
	if h.resyncing == 0 {
		h.moves = nil
	}
	if err != nil || h.closed {
		h.mu.Unlock()
		return err
	}
	h.replaceRooms(members)
	for _, m := range moves {
		if m.join {
			h.addMember(m.room, m.user)
		} else {
			h.removeMember(m.room, m.user)
		}
	}
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
	return nil
}

// move is a Join (join true) or Leave recorded while a Resync reads.
type move struct {
	room, user int64
	join       bool
}

// noteMove records m if a Resync is reading. The caller holds h.mu for
// writing.
func (h *Hub) noteMove(m move) {
	if h.resyncing > 0 {
		h.moves = append(h.moves, m)
	}
}

// replaceRooms swaps the room index for members plus the guests already
// known. The caller holds h.mu for writing.
func (h *Hub) replaceRooms(members []chat.Membership) {
	old := h.rooms
	h.rooms = make(map[int64]map[int64]struct{}, len(old))
	h.memberOf = make(map[int64]map[int64]struct{}, len(h.memberOf))
	for _, m := range members {
		h.addMember(m.RoomID, m.UserID)
	}
	for room, users := range old {
		for u := range users {
			if u < 0 {
				h.addMember(room, u)
			} else if _, still := h.rooms[room][u]; !still {
				h.StoppedTyping(room, u) // as Leave does
			}
		}
	}
}

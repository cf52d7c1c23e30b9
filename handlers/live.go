package handlers

import (
	"bytes"
	"context"
	"net/http"
	"strconv"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// Live is who is typing and who is here (the hub): handlers report
// activity and typing, and read presence for the pages they render.
type Live interface {
	Active(user int64)
	Typing(room, user int64, name string) bool
	StoppedTyping(room, user int64)
	Presence(user int64) chat.Presence
	SetLight(user int64, on bool)
}

// DirectPeers finds the other person of each of user's direct
// conversations (the store).
type DirectPeers interface {
	DirectPeers(ctx context.Context, user int64) (map[int64]int64, error)
}

// noLive is Live when none is configured: nobody types, everyone is offline.
type noLive struct{}

func (noLive) Active(int64)                     {}
func (noLive) Typing(int64, int64, string) bool { return true }
func (noLive) StoppedTyping(int64, int64)       {}
func (noLive) Presence(int64) chat.Presence     { return chat.PresenceOffline }
func (noLive) SetLight(int64, bool)             {}

// typing is a composer's "I am typing" signal: POST /rooms/{room}/typing,
// sent by the page's script at most every 3 s while its user types. It is
// shown to the room's other members until it expires (hub), never stored.
// Only members may send it; a limit per user also holds a script that
// sends too often (several tabs typing at once still pass).
func (h *Handler) typing(w http.ResponseWriter, r *http.Request, u chat.User) {
	room, err := roomParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.requireMember(r.Context(), room, u); err != nil {
		h.fail(w, r, err)
		return
	}
	if ok, wait := h.limits.Typing.Allow(strconv.FormatInt(u.ID, 10)); !ok {
		h.fail(w, r, tooMany(w, wait, "Typing signals too fast."))
		return
	}
	h.live.Typing(room, u.ID, typistName(u))
	w.WriteHeader(http.StatusNoContent)
}

// requireMember fails unless u is a member of room. To outsiders a
// conversation does not exist.
func (h *Handler) requireMember(ctx context.Context, room int64, u chat.User) error {
	rm, err := h.store.RoomName(ctx, room)
	if err != nil {
		return err
	}
	ok, err := h.store.IsMember(ctx, room, u.ID)
	switch {
	case err != nil:
		return err
	case !ok && rm.Private():
		return errNoRoom
	case !ok:
		return chat.Errorf(chat.Forbidden, "Join this room first.")
	}
	return nil
}

// typistName is how a typist is named: as their messages name them.
func typistName(u chat.User) string {
	if u.Embedded() {
		return u.Name + " (" + u.Site + ")"
	}
	return u.Name
}

// activity is a page's report that its user did something (typed,
// clicked, came back to the tab): POST /activity, at most once a minute
// per tab. Page loads and messages count by themselves; this keeps a
// person who reads without posting from showing as away.
func (h *Handler) activity(w http.ResponseWriter, r *http.Request, u chat.User) {
	h.live.Active(u.ID)
	w.WriteHeader(http.StatusNoContent)
}

// peers is the other person of each of u's direct conversations, with
// their presence, for the sidebar's dots. Without it the sidebar shows
// none; a page is not failed for it.
func (h *Handler) peers(ctx context.Context, u chat.User) map[int64]chat.PresenceChange {
	if h.directPeers == nil {
		return nil
	}
	ids, err := h.directPeers.DirectPeers(ctx, u.ID)
	if err != nil {
		h.log.Warn("direct conversation peers", "user", u.ID, "err", err)
		return nil
	}
	out := make(map[int64]chat.PresenceChange, len(ids))
	for room, peer := range ids {
		out[room] = chat.PresenceChange{User: peer, State: h.live.Presence(peer)}
	}
	return out
}

// presenceOf looks up the presence of each of users.
func (h *Handler) presenceOf(users []int64) map[int64]chat.Presence {
	out := make(map[int64]chat.Presence, len(users))
	for _, id := range users {
		out[id] = h.live.Presence(id)
	}
	return out
}

// RenderTyping renders a room's typing event for the hub: once, the same
// bytes for every member.
func RenderTyping(room int64, typists []chat.Typist) []byte {
	var buf bytes.Buffer
	if err := views.TypingEvent(room, typists).Render(context.Background(), &buf); err != nil {
		return nil // rendering into memory does not fail; if it did, nothing is sent
	}
	return buf.Bytes()
}

// RenderPresence renders a room's presence event for the hub.
func RenderPresence(room int64, changes []chat.PresenceChange) []byte {
	var buf bytes.Buffer
	if err := views.PresenceEvent(room, changes).Render(context.Background(), &buf); err != nil {
		return nil
	}
	return buf.Bytes()
}

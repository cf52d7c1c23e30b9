package handlers

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// AttentionStore keeps how far each person has read each room and who
// mentions whom.
type AttentionStore interface {
	// MarkReadUpTo moves user's mark in room up to upTo (never back) and
	// returns where it was.
	MarkReadUpTo(ctx context.Context, user, room, upTo int64) (previous int64, err error)
	MentionsOf(ctx context.Context, user, before int64, limit int) ([]chat.Message, bool, error)
	MentionCandidates(ctx context.Context, room, viewer int64, prefix string, limit int) ([]chat.Person, error)
}

// openRoom marks the room v shows read up to the newest message on the
// page (not "now": what arrives meanwhile is still unread) and puts the
// "New messages" line where the reader had got to. The sidebar, counted
// before, shows the room read.
func (h *Handler) openRoom(ctx context.Context, u chat.User, v *views.RoomPage) {
	if len(v.Messages) == 0 {
		return
	}
	newest := v.Messages[len(v.Messages)-1].ID
	prev, err := h.attention.MarkReadUpTo(ctx, u.ID, v.Room.ID, newest)
	if err != nil {
		h.log.Warn("mark room read", "user", u.ID, "room", v.Room.ID, "err", err)
		return
	}
	v.NewFrom = views.FirstUnread(v.Messages, u.ID, prev)
	for i := range v.Joined {
		if r := &v.Joined[i]; r.ID == v.Room.ID {
			r.Unread, r.Mentions, r.LastID = 0, 0, max(r.LastID, newest)
		}
	}
}

// markRead records that a page showed a room up to message up_to: the
// page's script posts it as messages arrive in the room on screen. The
// reader's other tabs learn of it over their stream (Relay.Reads).
func (h *Handler) markRead(w http.ResponseWriter, r *http.Request, u chat.User) {
	room, err := roomParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := parseForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	upTo, err := strconv.ParseInt(r.PostForm.Get("up_to"), 10, 64)
	if err != nil || upTo <= 0 {
		h.fail(w, r, chat.Errorf(chat.Invalid, "up_to must be a message id."))
		return
	}
	if _, err := h.attention.MarkReadUpTo(r.Context(), u.ID, room, upTo); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// publishReads sends each moved read mark to its reader's own streams, so
// their other tabs show the room's new counts: the latest word about the
// room's counts, which streams that save data get coalesced.
func (rl *Relay) publishReads(lastID int64, reads []chat.ReadState) {
	for _, st := range reads {
		var buf bytes.Buffer
		if err := views.ReadEvent(st).Render(context.Background(), &buf); err != nil {
			rl.log.Error("render read mark for stream", "user", st.UserID, "room", st.RoomID, "err", err)
			continue
		}
		rl.out.PublishSidebar(st.UserID, st.RoomID, lastID, buf.Bytes())
	}
}

// mentionsPage lists the messages that mention u in rooms they are in,
// newest first, chat.PageSize at a time (?before= pages back).
func (h *Handler) mentionsPage(w http.ResponseWriter, r *http.Request, u chat.User) {
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		var err error
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before <= 0 {
			h.fail(w, r, chat.Errorf(chat.Invalid, "?before= must be a message id."))
			return
		}
	}
	p, err := h.page(r, "Mentions")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := views.MentionsPage{Page: p, Rooms: map[int64]chat.Room{}}
	if v.Joined, _, err = h.store.Rooms(r.Context(), u.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	var more bool
	if v.Messages, more, err = h.attention.MentionsOf(r.Context(), u.ID, before, chat.PageSize); err != nil {
		h.fail(w, r, err)
		return
	}
	if more {
		v.Older = v.Messages[len(v.Messages)-1].ID
	}
	for _, room := range v.Joined {
		v.Rooms[room.ID] = room
	}
	h.render(w, r, http.StatusOK, views.MentionsView(v))
}

// mentionSuggestions answers the composer's "@al": up to
// views.MaxSuggestions members of the room whose username starts with
// what was typed, and @room for those who may use it. Only members ask.
func (h *Handler) mentionSuggestions(w http.ResponseWriter, r *http.Request, u chat.User) {
	room, err := h.memberRoom(r, u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := strings.TrimPrefix(r.URL.Query().Get("q"), "@")
	var s views.Suggestions
	if !mentionPrefix(q) {
		h.render(w, r, http.StatusOK, views.MentionSuggestions(s))
		return
	}
	if s.People, err = h.attention.MentionCandidates(r.Context(), room.ID, u.ID, q, views.MaxSuggestions); err != nil {
		h.fail(w, r, err)
		return
	}
	if strings.HasPrefix(chat.MentionRoom, strings.ToLower(q)) {
		admin, err := h.rooms.IsRoomAdmin(r.Context(), room.ID, u.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		s.Room = chat.CanMentionRoom(u, room, admin)
	}
	h.render(w, r, http.StatusOK, views.MentionSuggestions(s))
}

// memberRoom is the room in the path, if u belongs to it. To others a
// private room or conversation does not exist; a public one says to join.
func (h *Handler) memberRoom(r *http.Request, u chat.User) (chat.Room, error) {
	id, err := roomParam(r)
	if err != nil {
		return chat.Room{}, err
	}
	room, err := h.store.Room(r.Context(), id)
	if err != nil {
		return room, err
	}
	ok, err := h.store.IsMember(r.Context(), id, u.ID)
	switch {
	case err != nil:
		return room, err
	case !ok && room.Private():
		return room, errNoRoom
	case !ok:
		return room, chat.Errorf(chat.Forbidden, "Join this room to mention its members.")
	}
	return room, nil
}

// mentionPrefix reports whether q can begin a username: suggestions are
// looked up for nothing else.
func mentionPrefix(q string) bool {
	if len(q) > chat.MaxUsernameRunes {
		return false
	}
	for i := 0; i < len(q); i++ {
		c := q[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || (i > 0 && strings.IndexByte("._-", c) >= 0)) {
			return false
		}
	}
	return true
}

package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// MemberStore lists a room's members and removes them.
type MemberStore interface {
	Members(ctx context.Context, room int64) ([]chat.Member, error)
	RemoveMember(ctx context.Context, room int64, member, by chat.User) error
}

// membersPage lists a room's members to its members (and admins).
func (h *Handler) membersPage(w http.ResponseWriter, r *http.Request, u chat.User) {
	rv, err := h.loadRoomView(r, u)
	if err == nil && !u.Admin && !rv.member {
		err = chat.Errorf(chat.Forbidden, "Join this room to see its members.")
	}
	var members []chat.Member
	if err == nil {
		members, err = h.members.Members(r.Context(), rv.room.ID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rv.page.Title = "Members of " + rv.room.Title(u.Name)
	ids := make([]int64, len(members))
	for i, m := range members {
		ids[i] = m.User.ID
	}
	h.render(w, r, http.StatusOK, views.MembersView(views.MembersPage{
		Page: rv.page, Room: rv.room, Joined: rv.joined, Members: members,
		Removable: removable(u, rv.room, members), CanAppoint: chat.CanAppoint(u, rv.room),
		Presence: h.presenceOf(ids),
	}))
}

// removeMember takes someone out of a room; their open pages stop getting
// its messages at once.
func (h *Handler) removeMember(w http.ResponseWriter, r *http.Request, u chat.User) {
	room, err := roomParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	target, err := strconv.ParseInt(r.PathValue("user"), 10, 64)
	if err != nil {
		h.fail(w, r, chat.Errorf(chat.NotFound, "No such user."))
		return
	}
	if target == u.ID {
		h.fail(w, r, chat.Errorf(chat.Invalid, "To leave a room yourself, use Leave room."))
		return
	}
	member, err := h.store.UserByID(r.Context(), target)
	if err == nil {
		err = h.members.RemoveMember(r.Context(), room, member, u)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, roomPath(room)+"/members", http.StatusSeeOther)
}

// removable marks the members u may remove from room (chat.CheckRemove).
func removable(u chat.User, room chat.Room, members []chat.Member) map[int64]bool {
	var uAdmin bool
	for _, m := range members {
		if m.User.ID == u.ID {
			uAdmin = m.RoomAdmin
		}
	}
	out := map[int64]bool{}
	for _, m := range members {
		out[m.User.ID] = chat.CheckRemove(u, uAdmin, m.User, m.RoomAdmin, room) == nil
	}
	return out
}

func containsRoom(rooms []chat.Room, id int64) bool {
	for _, r := range rooms {
		if r.ID == id {
			return true
		}
	}
	return false
}

package handlers

import (
	"net/http"
	"strconv"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// membersPage lists a room's members to its members (and admins).
func (h *Handler) membersPage(w http.ResponseWriter, r *http.Request, u chat.User) {
	id, err := roomParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.page(r, "Members")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	room, err := h.store.Room(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	joined, _, err := h.store.Rooms(r.Context(), u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !u.Admin && !containsRoom(joined, id) {
		h.fail(w, r, chat.Errorf(chat.Forbidden, "Join this room to see its members."))
		return
	}
	members, err := h.store.Members(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.Title = "Members of #" + room.Name
	h.render(w, r, http.StatusOK, views.MembersView(views.MembersPage{
		Page: p, Room: room, Joined: joined, Members: members, CanRemove: chat.CanRemoveMembers(u, room),
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
		err = h.store.RemoveMember(r.Context(), room, member, u)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, roomPath(room)+"/members", http.StatusSeeOther)
}

func containsRoom(rooms []chat.Room, id int64) bool {
	for _, r := range rooms {
		if r.ID == id {
			return true
		}
	}
	return false
}

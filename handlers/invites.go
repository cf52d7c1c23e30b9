package handlers

import (
	"net/http"
	"strconv"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// createInvite makes an invite link and shows it, this once, on the
// settings page (see fresh.go): only its hash is kept.
func (h *Handler) createInvite(w http.ResponseWriter, r *http.Request, u chat.User) {
	id, err := roomParam(r)
	if err == nil {
		err = parseForm(w, r)
	}
	if err == nil {
		_, err = h.visibleRoom(r.Context(), id, u)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	life, uses, err := chat.ParseInviteLink(r.PostForm.Get("expires"), r.PostForm.Get("uses"))
	var link chat.InviteLink
	if err == nil {
		link, err = h.rooms.CreateInviteLink(r.Context(), id, u, life, uses)
	}
	var site string
	if err == nil {
		site, err = h.linkSite(r)
	}
	if err != nil {
		h.settingsRefused(w, r, id, linkForm(id), nil, err)
		return
	}
	h.forgetKept(r, linkForm(id))
	h.showFresh(w, r, linkForm(id), views.FreshLink{URL: site + chat.InvitePath(link.Token), Expires: link.Expires, Uses: link.UsesLeft()},
		roomPath(id)+"/settings")
}

// revokeInvite stops an invite link working.
func (h *Handler) revokeInvite(w http.ResponseWriter, r *http.Request, u chat.User) {
	id, err := roomParam(r)
	var link int64
	if err == nil {
		link, err = strconv.ParseInt(r.PathValue("link"), 10, 64)
		if err != nil {
			err = chat.Errorf(chat.NotFound, "No such invite link.")
		}
	}
	if err == nil {
		err = h.rooms.RevokeInviteLink(r.Context(), id, link, u)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, roomPath(id)+"/settings", http.StatusSeeOther)
}

// invitePage shows what an invite link leads to, with a Join button. A
// signed-out visitor was sent to log in first and comes back here; a
// member goes straight to the room.
func (h *Handler) invitePage(w http.ResponseWriter, r *http.Request, u chat.User) {
	token := r.PathValue("token")
	inv, err := h.rooms.InviteFor(r.Context(), token, u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if inv.Member {
		http.Redirect(w, r, roomPath(inv.Room.ID), http.StatusSeeOther)
		return
	}
	p, err := h.page(r, "Invitation to "+inv.Room.Title(u.Name))
	var joined []chat.Room
	if err == nil {
		joined, _, err = h.store.Rooms(r.Context(), u.ID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, views.InviteView(views.InvitePage{Page: p, Joined: joined, Invitation: inv, Token: token}))
}

// acceptInvite joins the room an invite link leads to.
func (h *Handler) acceptInvite(w http.ResponseWriter, r *http.Request, u chat.User) {
	room, err := h.rooms.JoinByInvite(r.Context(), r.PathValue("token"), u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, roomPath(room.ID), http.StatusSeeOther)
}

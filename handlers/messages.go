package handlers

import (
	"net/http"
	"strconv"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// postMessage stores a message. htmx gets a fresh composer (the message
// itself arrives over the stream, like everyone else's); a plain form post
// is redirected back to the room.
func (h *Handler) postMessage(w http.ResponseWriter, r *http.Request, u chat.User) {
	room, err := roomParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := parseForm(w, r); err != nil {
		h.composerFailed(w, r, u, room, "", err)
		return
	}
	typed := r.PostForm.Get("body")
	body, err := chat.CleanMessage(typed)
	if err == nil {
		_, err = h.store.PostMessage(r.Context(), room, u, body)
	}
	if err != nil {
		h.composerFailed(w, r, u, room, typed, err)
		return
	}
	if !isHTMX(r) {
		http.Redirect(w, r, roomPath(room), http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, views.ComposerForm(h.composer(r, room, "", "")))
}

// composerFailed shows the error next to the text the user typed, so
// nothing they wrote is lost.
func (h *Handler) composerFailed(w http.ResponseWriter, r *http.Request, u chat.User, room int64, typed string, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError || status == http.StatusNotFound {
		h.fail(w, r, err)
		return
	}
	if !isHTMX(r) {
		h.showRoom(w, r, u, status, views.Composer{Body: typed, Error: chat.ErrorText(err)})
		return
	}
	h.render(w, r, status, views.ComposerForm(h.composer(r, room, typed, chat.ErrorText(err))))
}

func (h *Handler) composer(r *http.Request, room int64, body, problem string) views.Composer {
	c := views.Composer{RoomID: room, Body: body, Error: problem}
	if rm, err := h.store.Room(r.Context(), room); err == nil {
		c.RoomName = rm.Name
	}
	return c
}

// olderMessages serves the page of messages before ?before=: a fragment for
// htmx's "load older", a page of its own otherwise.
func (h *Handler) olderMessages(w http.ResponseWriter, r *http.Request, u chat.User) {
	id, err := roomParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	before, err := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	if err != nil || before <= 0 {
		h.fail(w, r, chat.Errorf(chat.Invalid, "?before= must be a message id."))
		return
	}
	room, err := h.store.Room(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if ok, err := h.store.IsMember(r.Context(), id, u.ID); err != nil || !ok {
		h.fail(w, r, orForbidden(err))
		return
	}
	msgs, more, err := h.store.History(r.Context(), id, before, chat.PageSize)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if isHTMX(r) {
		h.render(w, r, http.StatusOK, views.OlderFragment(id, msgs, more))
		return
	}
	p, err := h.page(r, "Older messages in #"+room.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, views.OlderView(views.OlderPage{Page: p, Room: room, Messages: msgs, More: more}))
}

func orForbidden(err error) error {
	if err != nil {
		return err
	}
	return chat.Errorf(chat.Forbidden, "Join this room to read its messages.")
}

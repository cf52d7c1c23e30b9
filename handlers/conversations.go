package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// ConversationStore finds or starts direct and group conversations.
type ConversationStore interface {
	StartConversation(ctx context.Context, starter chat.User, usernames []string) (chat.Room, error)
}

// startConversation finds or starts a conversation: POST /dm with `with`,
// usernames separated by commas or repeated. One name makes a direct
// conversation, more a group. It answers 303 to the conversation, or, if
// refused, to the rooms page showing the form as typed with why: /dm has
// no page of its own, and a reload must not post it again.
func (h *Handler) startConversation(w http.ResponseWriter, r *http.Request, u chat.User) {
	if err := parseForm(w, r); err != nil {
		h.keepRefused(w, r, dmForm, nil, err, "/rooms")
		return
	}
	with := strings.Join(r.PostForm["with"], ", ")
	room, err := h.openConversation(w, r, u, splitNames(with))
	if err != nil {
		if statusOf(err) == http.StatusInternalServerError {
			h.fail(w, r, err)
			return
		}
		h.keepRefused(w, r, dmForm, map[string]string{"with": with}, err, "/rooms")
		return
	}
	h.forgetKept(r, dmForm)
	http.Redirect(w, r, roomPath(room.ID), http.StatusSeeOther)
}

// dmForm names the start-a-conversation form among kept forms.
const dmForm = "dm"

func (h *Handler) openConversation(w http.ResponseWriter, r *http.Request, u chat.User, names []string) (chat.Room, error) {
	if len(names) == 0 {
		return chat.Room{}, chat.FieldErrorf("with", chat.Invalid, "Name at least one person to talk with.")
	}
	if len(names) > 4*chat.MaxConversationPeople {
		return chat.Room{}, chat.FieldErrorf("with", chat.Invalid, "A conversation can include at most %d other people.", chat.MaxConversationPeople)
	}
	// Starting conversations costs what posting does: it is how spam would start.
	if ok, wait := h.limits.Posts.Allow(strconv.FormatInt(u.ID, 10)); !ok {
		return chat.Room{}, tooMany(w, wait, "You are starting conversations too fast.")
	}
	return h.conversations.StartConversation(r.Context(), u, names)
}

// sidebar answers the page script's request for a fresh sidebar, when the
// stream brings a message from a conversation the page does not list yet.
func (h *Handler) sidebar(w http.ResponseWriter, r *http.Request, u chat.User) {
	p, err := h.page(r, "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	joined, _, err := h.store.Rooms(r.Context(), u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	current, _ := strconv.ParseInt(r.URL.Query().Get("current"), 10, 64)
	// The path becomes the transport switch's next: only a local one.
	p.Path, _ = localTarget(r.URL.Query().Get("path"))
	h.render(w, r, http.StatusOK, views.Sidebar(p, joined, current))
}

package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// MessageStore keeps the changes people make to messages: edits,
// deletes, reactions and replies (the store). Each change is published
// by the store's commit hook like a new message, under a new event id.
type MessageStore interface {
	Message(ctx context.Context, room, id int64, by chat.User) (chat.Message, bool, []chat.Edit, error)
	EditMessage(ctx context.Context, room, id int64, by chat.User, body string) (chat.Message, error)
	DeleteMessage(ctx context.Context, room, id int64, by chat.User) (chat.Message, error)
	React(ctx context.Context, room, id int64, by chat.User, emoji string) (chat.Message, bool, error)
	PostReply(ctx context.Context, room int64, author chat.User, body, clientID string, replyTo int64) (chat.Message, error)
}

var errNoMessage = chat.Errorf(chat.NotFound, "No such message.")

// messageParams reads the room and message ids of a message's address.
func messageParams(r *http.Request) (room, id int64, err error) {
	if room, err = roomParam(r); err != nil {
		return 0, 0, err
	}
	id, err = strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, 0, errNoMessage
	}
	return room, id, nil
}

// messageForm reads a form posted to a message's address, with the room
// and message ids; on a bad one it has answered.
func (h *Handler) messageForm(w http.ResponseWriter, r *http.Request) (room, id int64, ok bool) {
	room, id, err := messageParams(r)
	if err == nil {
		err = parseForm(w, r)
	}
	if err != nil {
		h.fail(w, r, err)
		return 0, 0, false
	}
	return room, id, true
}

// showMessage is a message's own page (GET …/messages/{id}/actions, and
// …/edit without htmx): what can be done to it, as plain forms: react,
// reply, edit and delete, and for the room's managers its earlier
// versions. htmx asking for …/edit gets the inline edit form alone.
func (h *Handler) showMessage(w http.ResponseWriter, r *http.Request, u chat.User) {
	h.messagePage(w, r, u, http.StatusOK, "")
}

func (h *Handler) messagePage(w http.ResponseWriter, r *http.Request, u chat.User, status int, problem string) {
	room, id, err := messageParams(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	m, manager, edits, err := h.messages.Message(r.Context(), room, id, u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := views.MessagePage{Message: m, Edits: edits, Error: problem,
		CanEdit: chat.CheckEdit(u, m) == nil, CanDelete: !m.Deleted && (m.AuthorID == u.ID || manager)}
	v.Body = m.Body
	if problem != "" {
		v.Body = r.PostForm.Get("body")
	}
	if isHTMX(r) && r.Method == http.MethodGet && v.CanEdit {
		h.render(w, r, status, views.EditForm(v))
		return
	}
	if v.Room, err = h.store.RoomName(r.Context(), room); err != nil {
		h.fail(w, r, err)
		return
	}
	if v.Page, err = h.page(r, "Message"); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, status, views.MessageView(v))
}

// editMessage saves a new text (POST …/edit, field body). htmx gets the
// message as it now is, in place of the form; a plain form goes back to
// the message in its room. A refused text stays in the form with why.
func (h *Handler) editMessage(w http.ResponseWriter, r *http.Request, u chat.User) {
	room, id, ok := h.messageForm(w, r)
	if !ok {
		return
	}
	body, err := chat.CleanMessage(r.PostForm.Get("body"))
	var m chat.Message
	if err == nil {
		m, err = h.messages.EditMessage(r.Context(), room, id, u, body)
	}
	h.changed(w, r, u, m, err)
}

// deleteMessage deletes a message (POST …/delete), answered as an edit is.
func (h *Handler) deleteMessage(w http.ResponseWriter, r *http.Request, u chat.User) {
	room, id, ok := h.messageForm(w, r)
	if !ok {
		return
	}
	m, err := h.messages.DeleteMessage(r.Context(), room, id, u)
	h.changed(w, r, u, m, err)
}

// changed answers an edit or a delete.
func (h *Handler) changed(w http.ResponseWriter, r *http.Request, u chat.User, m chat.Message, err error) {
	switch {
	case err != nil && (statusOf(err) == http.StatusUnprocessableEntity || statusOf(err) == http.StatusConflict):
		if isHTMX(r) {
			w.Header().Set("HX-Reswap", "none")
			http.Error(w, chat.ErrorText(err), statusOf(err))
			return
		}
		h.messagePage(w, r, u, statusOf(err), chat.ErrorText(err))
	case err != nil:
		h.fail(w, r, err)
	case isHTMX(r):
		h.render(w, r, http.StatusOK, views.MessageItem(m))
	default:
		http.Redirect(w, r, roomPath(m.RoomID)+"#msg-"+strconv.FormatInt(m.ID, 10), http.StatusSeeOther)
	}
}

// react turns a reaction on or off (POST …/reactions, field emoji). The
// stream brings the new counts to every page, this one's too: htmx gets
// 204; a plain form goes back to the message's page.
func (h *Handler) react(w http.ResponseWriter, r *http.Request, u chat.User) {
	room, id, ok := h.messageForm(w, r)
	if !ok {
		return
	}
	if _, _, err := h.messages.React(r.Context(), room, id, u, r.PostForm.Get("emoji")); err != nil {
		h.fail(w, r, err)
		return
	}
	if isHTMX(r) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, roomPath(room)+"/messages/"+strconv.FormatInt(id, 10)+"/actions", http.StatusSeeOther)
}

// replyQuote reads the message a composer replies to (the room page's
// ?reply=id), as the quote it shows. A message the user may not see, or
// none, is no reply.
func (h *Handler) replyQuote(ctx context.Context, u chat.User, room int64, v string) *chat.Quote {
	return h.quote(ctx, u, room, replyID(v))
}

// fullQuote completes the quote of a composer that knows only the id of
// the message it answers (a refused post): read only then, as a post
// that succeeds never shows it. One that cannot be read keeps its id.
func (h *Handler) fullQuote(ctx context.Context, u chat.User, room int64, q *chat.Quote) *chat.Quote {
	if q == nil || q.Author != "" {
		return q
	}
	if full := h.quote(ctx, u, room, q.ID); full != nil {
		return full
	}
	return q
}

func (h *Handler) quote(ctx context.Context, u chat.User, room, id int64) *chat.Quote {
	if id == 0 {
		return nil
	}
	m, _, _, err := h.messages.Message(ctx, room, id, u)
	if err != nil || m.Deleted || !m.Kind.Text() {
		return nil
	}
	q := chat.QuoteOf(m)
	return &q
}

// replyID reads a composer's reply_to field: 0 for none or nonsense.
func replyID(v string) int64 {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// postMessage stores a message. htmx gets a fresh composer and the message
// for this tab's log (the stream brings it too, and the same id replaces
// itself), so a tab without live updates still shows what it sent; a plain
// form post is redirected back to the room. The form's client_id makes a retried or
// double-submitted post store one message and get the same answer: a retry
// after a post whose answer never came (the link dropped) is safe.
func (h *Handler) postMessage(w http.ResponseWriter, r *http.Request, u chat.User) {
	room, err := roomParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := parseForm(w, r); err != nil {
		h.meter.MessageRefused(refusalReason(err))
		h.composerFailed(w, r, u, views.Composer{RoomID: room}, err)
		return
	}
	typed := views.Composer{RoomID: room, Body: r.PostForm.Get("body"), ClientID: r.PostForm.Get("client_id")}
	if id := replyID(r.PostForm.Get("reply_to")); id > 0 {
		// The store decides whether the reply may be posted; the quote is
		// read only if the composer comes back (h.composer).
		typed.ReplyTo = &chat.Quote{ID: id}
	}
	sent, err := h.send(r.Context(), u, typed)
	if err != nil {
		if wait, limited := retryAfter(err); limited {
			setRetryAfter(w, wait)
		}
		h.composerFailed(w, r, u, typed, err)
		return
	}
	h.forgetKept(r, composerForm(room)) // Back to a refusal of it must not offer it again
	if !isHTMX(r) {
		http.Redirect(w, r, roomPath(room), http.StatusSeeOther)
		return
	}
	h.composerSent(w, r, u, views.Composer{RoomID: room}, sent, func(err error) { h.fail(w, r, err) })
}

// composerSent answers an htmx post that stored sent: a fresh composer c,
// and the message's stream fragment, the relay's bytes where it has them.
// fail answers if the fragment cannot be rendered.
func (h *Handler) composerSent(w http.ResponseWriter, r *http.Request, u chat.User, c views.Composer, sent chat.Message, fail func(error)) {
	message, err := h.fragments.Message(r.Context(), sent)
	if err != nil {
		fail(err)
		return
	}
	composer := views.ComposerSent(h.composer(r.Context(), u, c))
	h.render(w, r, http.StatusOK, templ.ComponentFunc(func(ctx context.Context, out io.Writer) error {
		if err := composer.Render(ctx, out); err != nil {
			return err
		}
		_, err := out.Write(message) // rendered already, as the stream sends it
		return err
	}))
}

// send validates and stores what a composer holds; every transport (the
// form post, the WebSocket frame, the widget's post) goes through it,
// under the same limits, and is counted here.
func (h *Handler) send(ctx context.Context, u chat.User, typed views.Composer) (chat.Message, error) {
	start := time.Now()
	m, err := h.sendUncounted(ctx, u, typed)
	if err != nil {
		h.meter.MessageRefused(refusalReason(err))
		return m, err
	}
	h.meter.MessagePosted(time.Since(start))
	return m, nil
}

// sendUncounted is send without the counting.
func (h *Handler) sendUncounted(ctx context.Context, u chat.User, typed views.Composer) (chat.Message, error) {
	if ok, wait := h.limits.Posts.Allow(strconv.FormatInt(u.ID, 10)); !ok {
		return chat.Message{}, rateLimited(wait, "You are sending messages too fast.")
	}
	cid, err := chat.CleanClientID(typed.ClientID)
	if err != nil {
		return chat.Message{}, err
	}
	body, err := chat.CleanMessage(typed.Body)
	if err != nil {
		return chat.Message{}, err
	}
	var replyTo int64
	if typed.ReplyTo != nil {
		replyTo = typed.ReplyTo.ID
	}
	m, err := h.messages.PostReply(ctx, typed.RoomID, u, body, cid, replyTo)
	if err == nil && cid != "" && m.Body != body {
		// The id was spent on a message that reads otherwise: a post whose
		// answer was lost did arrive, and its text was changed before this
		// resend. Answering "sent" would lose the change without a word.
		return m, errSentBefore
	}
	if err == nil {
		h.live.StoppedTyping(typed.RoomID, u.ID) // what they typed is sent
		h.live.Active(u.ID)
	}
	return m, err
}

var errSentBefore = chat.FieldErrorf("body", chat.Conflict,
	"Your message had already arrived as first written (it is in the room), so this changed text was not sent. Send it again to post it as a new message.")

// keptClientID is the client id a refused composer keeps: the same one,
// so that sending it again cannot store the message twice, unless the id
// itself was at fault or is spent (errSentBefore).
func keptClientID(id string, err error) string {
	if _, bad := chat.CleanClientID(id); bad != nil || errors.Is(err, errSentBefore) {
		return ""
	}
	return id
}

// composerFailed shows the error next to the text the user typed, so
// nothing they wrote is lost. The client id stays: resending the same text
// must not store it twice. Without script the room's page shows them
// (keepRefused), so reloading it sends nothing.
func (h *Handler) composerFailed(w http.ResponseWriter, r *http.Request, u chat.User, typed views.Composer, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError || status == http.StatusNotFound {
		h.fail(w, r, err)
		return
	}
	typed.Error = chat.ErrorText(err)
	typed.ClientID = keptClientID(typed.ClientID, err)
	if !isHTMX(r) {
		if status == http.StatusForbidden {
			// Not a member (any more): the room's page has no composer to
			// put the text back in, only the way to join.
			h.showRoom(w, r, u, status, typed)
			return
		}
		fields := map[string]string{"body": typed.Body, "client_id": typed.ClientID}
		if typed.ReplyTo != nil {
			fields["reply_to"] = strconv.FormatInt(typed.ReplyTo.ID, 10)
		}
		h.keepRefused(w, r, composerForm(typed.RoomID), fields, err, roomPath(typed.RoomID))
		return
	}
	h.render(w, r, status, views.ComposerForm(h.composer(r.Context(), u, typed)))
}

// composer completes a composer for u: the room's name, unless kept from a
// failed attempt a fresh client id, and the quote of what it replies to.
func (h *Handler) composer(ctx context.Context, u chat.User, c views.Composer) views.Composer {
	if c.ClientID == "" {
		c.ClientID = chat.NewClientID()
	}
	c.ReplyTo = h.fullQuote(ctx, u, c.RoomID, c.ReplyTo)
	// A refused post proves nothing (its body and its rate are checked
	// before its membership): its composer names only a room its user may
	// see, not a private room's name or whom a conversation is with. A
	// sent one proves membership, and costs no second read.
	name := h.store.RoomName
	if c.Error != "" {
		name = func(ctx context.Context, id int64) (chat.Room, error) { return h.visibleRoom(ctx, id, u) }
	}
	if room, err := name(ctx, c.RoomID); err == nil {
		c.Placeholder = composerHint(room, u)
	}
	return c
}

// composerHint is the composer's placeholder: whom the message goes to.
func composerHint(r chat.Room, u chat.User) string {
	if r.Private() {
		return "Message " + r.Title(u.Name)
	}
	return "Message #" + r.Name
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
		if err == nil && room.Private() {
			err = errNoRoom // outsiders do not learn a conversation exists
		}
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
	p, err := h.page(r, "Older messages in "+room.Title(u.Name))
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

package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// socket serves the user's stream as a WebSocket (GET /ws): the same
// events as /events, resumed with ?after=, and message posts as frames.
func (h *Handler) socket(w http.ResponseWriter, r *http.Request, u chat.User) {
	if ok, wait := h.limits.Streams.Allow(strconv.FormatInt(u.ID, 10)); !ok {
		err := tooMany(w, wait, "Too many stream connections.")
		http.Error(w, chat.ErrorText(err), statusOf(err))
		return
	}
	after, known := resumePoint(r)
	token := h.sessions.Token(r.Context())
	alive := h.sessionAlive(token, u.ID)
	h.streams.ServeWebSocket(w, r, u.ID, token, alive, h.replayFor(u, after, known, r),
		func(ctx context.Context, frame []byte) []byte {
			// The socket outlives the request that authenticated it: a
			// post must not outlive the session.
			if !alive() {
				return signedOutFrame
			}
			return h.frame(ctx, u, frame)
		})
}

// signedOutFrame answers a post over a socket whose session has ended.
var signedOutFrame, _ = json.Marshal(map[string]string{"event": signedOutEvent, "data": "You have been signed out."})

// socketForm is what htmx's hx-ws sends for the message form: the form's
// fields (and request headers, which are not needed here).
type socketForm struct {
	Body     string          `json:"body"`
	Room     json.RawMessage `json:"room"`
	ClientID string          `json:"client_id"`
	ReplyTo  string          `json:"reply_to"`
}

// frame posts the message a client sent and answers with the composer to
// show next: empty after a send, or the text with the error, exactly as a
// form post would.
func (h *Handler) frame(ctx context.Context, u chat.User, data []byte) []byte {
	var f socketForm
	if err := json.Unmarshal(data, &f); err != nil {
		return notice("That message could not be read.")
	}
	room, err := strconv.ParseInt(string(bytes.Trim(f.Room, `"`)), 10, 64)
	if err != nil || room <= 0 {
		return notice("That message names no room.")
	}
	typed := views.Composer{RoomID: room, Body: f.Body, ClientID: f.ClientID, Socket: true}
	if id := replyID(f.ReplyTo); id > 0 {
		typed.ReplyTo = &chat.Quote{ID: id}
	}
	next := views.Composer{RoomID: room, Socket: true}
	if _, err := h.send(ctx, u, typed); err != nil { // the message comes back over this socket
		switch statusOf(err) {
		case http.StatusInternalServerError:
			h.log.Error("post over socket", "user", u.ID, "err", err)
			return notice(chat.ErrorText(err))
		case http.StatusNotFound:
			return notice(chat.ErrorText(err))
		}
		next = typed // keep the text, and the id unless it was the fault
		next.Error = chat.ErrorText(err)
		next.ClientID = keptClientID(next.ClientID, err)
	}
	var buf bytes.Buffer
	if err := views.ComposerForm(h.composer(ctx, u, next)).Render(ctx, &buf); err != nil {
		return notice(chat.ErrorText(err))
	}
	reply, _ := json.Marshal(map[string]string{"content": buf.String(), "target": "#composer", "swap": "outerHTML"})
	return reply
}

// notice is a frame the page shows in its notice line.
func notice(msg string) []byte {
	b, _ := json.Marshal(map[string]string{"event": "rtm-notice", "data": msg})
	return b
}

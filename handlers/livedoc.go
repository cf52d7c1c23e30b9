package handlers

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// LiveDocs serves a user's stream as an HTML document that never ends
// (the hub's third transport, beside SSE and the WebSocket), for pages
// without script: start begins the document, chunk turns each event into
// markup to append (nil: none).
type LiveDocs interface {
	ServeDocument(w http.ResponseWriter, r *http.Request, user int64, session string, alive func() bool,
		replay func(ctx context.Context, send func(id int64, event string, data []byte) error) error,
		start func(retry bool) []byte, chunk func(id int64, event string, data []byte) []byte)
}

// closedEvent is the hub's refusal of a stream (hub.ClosedEvent).
const closedEvent = "rtm-closed"

// liveDocPolicy lets the site, and only the site, frame a live log
// document; the document runs no script and loads nothing but the
// stylesheet.
const liveDocPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'self'"

// liveDoc serves GET /rooms/{room}/live: the room's new messages as one
// HTML document that never ends, for the room page's frame when script is
// off (views.LiveFrame). It is the user's stream, as /events is, with the
// same session check, replay after ?after= and limits, shown as markup:
// each of the room's messages newer than ?after= once, in the order they
// arrive. Typing and presence are left out, and so are edits, deletions
// and reactions, which a page without script cannot apply to a message
// already shown: they show when the page is next loaded, as after a post.
func (h *Handler) liveDoc(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", liveDocPolicy)
	hd.Set("X-Frame-Options", "SAMEORIGIN")
	u, ok := userFrom(r)
	if !ok {
		h.liveSignedOut(w, r)
		return
	}
	room, err := h.liveRoom(r, u)
	if err != nil {
		h.liveFailed(w, r, err)
		return
	}
	if ok, wait := h.limits.Streams.Allow(strconv.FormatInt(u.ID, 10)); !ok {
		// Like a refused stream, but it comes back once the limit allows.
		retry := max(1, int(wait/time.Second)+1)
		h.liveNotice(w, http.StatusTooManyRequests, "Too many stream connections: new messages show again shortly.", "", "", retry)
		return
	}
	after, known := resumePoint(r)
	token := h.sessions.Token(r.Context())
	h.streams.ServeDocument(w, r, u.ID, token, h.sessionAlive(token, u.ID), h.replayFor(u, after, known, r),
		h.liveStart, h.liveChunk(room, after))
}

// liveRoom is the room of a live log request, if u is in it: to anyone
// else it does not exist, as on the room's page.
func (h *Handler) liveRoom(r *http.Request, u chat.User) (int64, error) {
	room, err := roomParam(r)
	if err != nil {
		return 0, err
	}
	member, err := h.store.IsMember(r.Context(), room, u.ID)
	if err != nil {
		return 0, err
	}
	if !member {
		return 0, errNoRoom
	}
	return room, nil
}

// liveSignedOut answers a live log request without a session: no retry,
// and a link that logs the whole page in and brings it back to the room.
func (h *Handler) liveSignedOut(w http.ResponseWriter, r *http.Request) {
	next := "/rooms"
	if room, err := roomParam(r); err == nil {
		next = roomPath(room)
	}
	h.liveNotice(w, http.StatusUnauthorized, "You have been signed out.", loginPath(next), "Log in", 0)
}

// liveFailed answers a live log request with err as a document the page
// may frame (an error page may not be framed, and the frame would show the
// browser's refusal instead).
func (h *Handler) liveFailed(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError {
		h.log.Error("request failed", append(failedRequest(r), "err", err)...)
	}
	h.liveNotice(w, status, chat.ErrorText(err), "", "", 0)
}

// liveNotice answers with a live log document that shows only text (see
// views.LiveNotice).
func (h *Handler) liveNotice(w http.ResponseWriter, status int, text, href, linkText string, refresh int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	views.LiveNotice(h.assets.CSS, text, href, linkText, refresh).Render(context.Background(), w)
}

// liveStart begins a live log document (views.LiveDocStart). It renders
// outside the request's context, which ends before a taken-over stream
// starts writing.
func (h *Handler) liveStart(retry bool) []byte {
	b, err := views.LiveDocStart(context.Background(), h.assets.CSS, retry)
	if err != nil {
		h.log.Error("render live log document", "err", err)
	}
	return b
}

// liveChunk decides what room's live log document shows of each event of
// the user's stream: the room's messages newer than after, each once, up
// to h.liveDocMax of them, and what the stream itself says (refused,
// signed out, too much missed).
func (h *Handler) liveChunk(room, after int64) func(int64, string, []byte) []byte {
	shown := shownIDs{floor: max(after, 0), keep: h.replayLimit + 64}
	count := 0
	return func(_ int64, event string, data []byte) []byte {
		switch event {
		case "":
			if count >= h.liveDocMax {
				return nil // the reader was asked to reload
			}
			in, id, item, ok := views.LiveItem(data)
			if !ok || in != room || !shown.add(id) {
				return nil
			}
			if count++; count == h.liveDocMax {
				// A new slice: item shares the event's bytes with every member.
				return slices.Concat(item, h.liveNote("This frame shows no more new messages.", roomPath(room), "Reload the page"))
			}
			return item
		case closedEvent:
			return h.liveNote(string(data), "", "")
		case signedOutEvent:
			return h.liveNote(string(data), loginPath(roomPath(room)), "Log in")
		case resetEvent:
			return h.liveNote("Too much was missed to show it here.", roomPath(room), "Reload the page")
		}
		return nil
	}
}

// liveNote renders a line of a live log document that is no message.
func (h *Handler) liveNote(text, href, linkText string) []byte {
	var b bytes.Buffer
	if err := views.LiveNote(text, href, linkText).Render(context.Background(), &b); err != nil {
		h.log.Error("render live log line", "err", err)
		return nil
	}
	return b.Bytes()
}

// shownIDs remembers which messages a live log document shows, so that
// each shows once: a message can come twice (replayed, and live while the
// replay ran), and every change to it comes again with its id. ids at or
// below floor count as shown: those the page around the document shows,
// and those too old to be remembered one by one. The others are kept one
// by one, in order, because they need not come in id order: a replay
// sends an edited message with its edit, after newer ones, and other
// nodes' messages may arrive late. keep holds a whole replay and more,
// so a message a replay holds back is never taken for shown.
type shownIDs struct {
	floor int64
	ids   []int64 // ascending, all above floor
	keep  int
}

// add reports whether id is new, and remembers it.
func (s *shownIDs) add(id int64) bool {
	if id <= s.floor {
		return false
	}
	i, found := slices.BinarySearch(s.ids, id)
	if found {
		return false
	}
	s.ids = slices.Insert(s.ids, i, id)
	if len(s.ids) > s.keep {
		s.floor = s.ids[0] // the oldest one is let go
		s.ids = slices.Delete(s.ids, 0, 1)
	}
	return true
}

package handlers

import (
	"net/http"

	"github.com/rtmessenger/rtmessenger/chat"
)

// sessionSocketKey holds the user's choice of WebSocket (1) over SSE (0)
// for live updates.
const sessionSocketKey = "ws"

// wantsSocket reports whether this page should run on the WebSocket: the
// ?transport= query decides for one page, otherwise the saved choice.
func (h *Handler) wantsSocket(r *http.Request) bool {
	switch r.URL.Query().Get("transport") {
	case "ws":
		return true
	case "sse":
		return false
	}
	return h.sessions.GetInt64(r.Context(), sessionSocketKey) == 1
}

// setTransport saves the user's choice of transport (POST
// /settings/transport, field transport = ws or sse) and goes back to next,
// a path on this site (default /rooms). A bad field saves nothing.
func (h *Handler) setTransport(w http.ResponseWriter, r *http.Request, _ chat.User) {
	if err := parseForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	next := "/rooms"
	if v := r.PostForm.Get("next"); v != "" {
		var err error
		if next, err = localTarget(v); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	switch r.PostForm.Get("transport") {
	case "ws":
		h.sessions.Put(r.Context(), sessionSocketKey, int64(1))
	case "sse":
		h.sessions.Put(r.Context(), sessionSocketKey, int64(0))
	default:
		h.fail(w, r, chat.FieldErrorf("transport", chat.Invalid, "transport must be ws or sse."))
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

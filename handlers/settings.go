package handlers

import (
	"context"
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
	next, ok := h.settingsForm(w, r)
	if !ok {
		return
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

// Preferences keeps each person's choices that follow them to every
// device (the store).
type Preferences interface {
	SetLight(ctx context.Context, user int64, on bool) (chat.User, error)
}

// setLight turns light mode on or off (POST /settings/light, field light =
// on or off) for the account, and for its open streams at once; then goes
// back to next as setTransport does.
func (h *Handler) setLight(w http.ResponseWriter, r *http.Request, u chat.User) {
	next, ok := h.settingsForm(w, r)
	if !ok {
		return
	}
	var on bool
	switch r.PostForm.Get("light") {
	case "on":
		on = true
	case "off":
	default:
		h.fail(w, r, chat.FieldErrorf("light", chat.Invalid, "light must be on or off."))
		return
	}
	if _, err := h.preferences.SetLight(r.Context(), u.ID, on); err != nil {
		h.fail(w, r, err)
		return
	}
	h.live.SetLight(u.ID, on)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// settingsForm reads a settings form and where it goes back to (its next
// field, a path on this site; default /rooms). On a bad form it has
// answered with the error.
func (h *Handler) settingsForm(w http.ResponseWriter, r *http.Request) (string, bool) {
	if err := parseForm(w, r); err != nil {
		h.fail(w, r, err)
		return "", false
	}
	next := "/rooms"
	if v := r.PostForm.Get("next"); v != "" {
		var err error
		if next, err = localTarget(v); err != nil {
			h.fail(w, r, err)
			return "", false
		}
	}
	return next, true
}

package hub

import (
	"net/http"
	"strings"

	"github.com/coder/websocket"
)

// SignedOutEvent is the SSE event name (and WebSocket frame event) that
// tells a page its sign-in is over: it should stop reconnecting and offer
// to log in again. Its data says why.
const SignedOutEvent = "rtm-signed-out"

// signedOutCode closes a WebSocket whose session ended. It is in the
// private range and not one the browser's client retries.
const signedOutCode websocket.StatusCode = 4001

// signedOutBlock is the last thing a stream whose session ended sends. It
// has no id line, so the page's resume point stays where it was.
var signedOutBlock = []byte("event: " + SignedOutEvent + "\ndata: You have been signed out.\n\n")

// EndSession closes at once every open connection of user that was opened
// with session (log-out, or a session that expired): each gets what was
// already queued for it, then SignedOutEvent.
func (h *Hub) EndSession(userID int64, session string) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if u := h.users[userID]; u != nil {
		for c := range u.conns {
			if c.session == session && c.end() {
				h.log.Info("stream ended", "user", u.key, "reason", "signed out")
			}
		}
	}
}

// Disconnect ends every stream of user, whatever session opened it, as
// when their account is deactivated or their password reset; a reconnect
// must pass the session check again.
func (h *Hub) Disconnect(userID int64) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if u := h.users[userID]; u != nil {
		for c := range u.conns {
			if c.end() {
				h.log.Info("stream ended", "user", u.key, "reason", "all sessions ended")
			}
		}
	}
}

// checkSessions asks each connection's valid function whether its session
// is still live, and ends those whose session is over (idle too long, past
// its lifetime, removed by another node). It runs on the heartbeat
// goroutine, outside the hub's lock: a check may read the database.
func (h *Hub) checkSessions() {
	var conns []*conn
	h.mu.RLock()
	for _, u := range h.users {
		for c := range u.conns {
			if c.valid != nil {
				conns = append(conns, c)
			}
		}
	}
	h.mu.RUnlock()
	for _, c := range conns {
		if !c.killed.Load() && !c.ended.Load() && !c.valid() && c.end() {
			h.log.Info("stream ended", "reason", "session over")
		}
	}
}

// RefuseSignedOut answers a stream request that has no valid session in a
// way the page understands: 401 with SignedOutEvent for SSE, and for a
// WebSocket upgrade a socket that says so and closes with code 4001 (a
// failed handshake would only look like a network error to the page, which
// would retry forever).
func (h *Hub) RefuseSignedOut(w http.ResponseWriter, r *http.Request) {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.opt.WSOrigins})
		if err != nil {
			return // Accept has answered
		}
		out := &wsSink{ws: ws, timeout: h.opt.WriteTimeout, code: signedOutCode}
		out.Write(signedOutBlock)
		out.flush()
		out.close()
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write(signedOutBlock)
}

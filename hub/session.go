package hub

import (
	"net"
	"net/http"
	"strings"

	"github.com/rtmessenger/rtmessenger/hub/wsock"
)

// SignedOutEvent is the SSE event name (and WebSocket frame event) that
// tells a page its sign-in is over: it should stop reconnecting and offer
// to log in again. Its data says why.
const SignedOutEvent = "rtm-signed-out"

// signedOutCode closes a WebSocket whose session ended. It is in the
// private range and not one the browser's client retries.
const signedOutCode wsock.StatusCode = 4001

// signedOutNotice is the last event of a stream whose session ended. It
// carries the id of the newest event before it, so the page's resume point
// stays where it was.
func signedOutNotice(lastID int64) *Event {
	return &Event{ID: lastID, Name: SignedOutEvent, Data: []byte("You have been signed out.")}
}

// EndSession closes at once every open connection of user that was opened
// with session (log-out, or a session that expired): each gets what was
// already queued for it, then SignedOutEvent.
func (h *Hub) EndSession(userID int64, session string) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if u := h.users[userID]; u != nil {
		for _, c := range u.conns {
			if c.session == session && c.end() {
				h.log.Info("stream ended", "user", u.id, "reason", "signed out")
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
		for _, c := range u.conns {
			if c.end() {
				h.log.Info("stream ended", "user", u.id, "reason", "all sessions ended")
			}
		}
	}
}

// CheckSessions has every connection's session checked now rather than at
// the next heartbeat, for when sessions changed where the hub cannot see
// (the admin command line, another process, ended them). The check runs on
// the heartbeat goroutine, so it never blocks the caller and requests made
// while one is pending are one check.
func (h *Hub) CheckSessions() {
	select {
	case h.checkNow <- struct{}{}:
	default: // one is pending already
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
		for _, c := range u.conns {
			if c.valid != nil {
				conns = append(conns, c)
			}
		}
	}
	h.mu.RUnlock()
	for _, c := range conns {
		if c.killed.Load() || c.ended.Load() || c.valid() {
			continue
		}
		if c.guest { // no session to sign in again to: the room is gone from the site
			if c.finish(closedNotice(GuestsGoneNotice), endRefused) {
				h.log.Info("stream ended", "reason", "guests no longer allowed")
			}
		} else if c.end() {
			h.log.Info("stream ended", "reason", "session over")
		}
	}
}

// GuestsGoneNotice is what a guest's stream ends with when the site no
// longer shows its room to guests.
const GuestsGoneNotice = "This room is no longer shown here."

// RefuseSignedOut answers a stream request that has no valid session in a
// way the page understands: 401 with SignedOutEvent for SSE, and for a
// WebSocket upgrade a socket that says so and closes with code 4001 (a
// failed handshake would only look like a network error to the page, which
// would retry forever). The answer is a stream of its own that carries
// only the notice, through the same path as any event.
func (h *Hub) RefuseSignedOut(w http.ResponseWriter, r *http.Request) {
	var c *conn
	var raw net.Conn
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		ws, err := h.acceptSocket(w, r, false)
		if err != nil {
			return // Accept has answered
		}
		c = h.newConn("ws", newQueueOutlet(2, &wsFrames{ws: ws, timeout: h.opt.WriteTimeout}))
	} else {
		c, raw = h.sseConn(w, r, http.StatusUnauthorized)
	}
	c.finish(signedOutNotice, endSignedOut)
	h.start(c, nil, raw, nil)
}

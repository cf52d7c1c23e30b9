package hub

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Replay sends what a connecting client missed, one event per send call:
// id becomes the event's id, event its name (empty for a fragment to swap).
// The hub calls it once the connection can take live events; live events
// published meanwhile wait and follow the replay, so a message committed
// while Replay runs is delivered live if not replayed: never lost, at
// worst sent twice (fragments replace themselves by id). It is an alias so
// callers need not import this package.
type Replay = func(ctx context.Context, send func(id int64, event string, data []byte) error) error

var (
	errCut             = errors.New("hub: stream cut off")
	errClosed          = errors.New("hub: closed")
	errTooManyTabs     = errors.New("hub: too many streams in one browser")
	errTooManyBrowsers = errors.New("hub: too many browsers streaming")
)

// ClosedEvent is the name of the event refusing a stream that the page
// should not retry; its data says why.
const ClosedEvent = "rtm-closed"

// aLongTimeAgo is a deadline that makes any pending write fail at once.
var aLongTimeAgo = time.Unix(1, 0)

// Serve streams live events of user's rooms to w (as SSE) until the client
// goes away, the connection is cut off, its session ends or the hub
// closes. The caller must have authenticated user; nothing in r decides
// whose stream this is. session names the sign-in (EndSession closes its
// connections) and valid, if not nil, re-checks it at every heartbeat. On
// HTTP/1.1 it takes the connection over and returns at once, the stream
// running on its own goroutine.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, userID int64, session string, valid func() bool, replay Replay) {
	c, raw := h.sseConn(w, r, http.StatusOK)
	c.session, c.valid, c.light, c.chose = session, valid, saveData(r), h.chose(userID)
	c.lastID = lastEventID(r)
	h.open(userID, c, raw, replay)
}

// lastEventID is the id an SSE client resumes from, or 0. Notices without
// an id of their own carry it, so the client's resume point stays put.
func lastEventID(r *http.Request) int64 {
	id, _ := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	return max(id, 0)
}

// ServeGuest streams room's live events to a visitor with no account (a
// read-only guest of an embedded room). A room's guests are members of it
// under one stream key of their own, so publishing to them costs what
// publishing to one member's tabs does; they are not counted against any
// user's limits. allowed, if not nil, re-checks at every heartbeat (and
// CheckSessions) that guests may still read room, as valid does a
// session for Serve.
func (h *Hub) ServeGuest(w http.ResponseWriter, r *http.Request, room int64, allowed func() bool, replay Replay) {
	h.Join(room, guestsOf(room))
	c, raw := h.sseConn(w, r, http.StatusOK)
	c.guest, c.valid = true, allowed
	h.open(guestsOf(room), c, raw, replay)
}

// chose reports whether user chose light mode (Options.Light).
func (h *Hub) chose(user int64) bool {
	return h.opt.Light != nil && h.opt.Light(user)
}

// SetLight tells the hub that user turned light mode on or off: their open
// streams get typing and presence events from now on, or no more of them.
func (h *Hub) SetLight(user int64, on bool) {
	h.mu.Lock()
	if u := h.users[user]; u != nil {
		u.chose = on
	}
	h.mu.Unlock()
}

// guestsOf is the stream key of room's guests: negative, never a user id.
func guestsOf(room int64) int64 { return -room }

// sseConn makes an SSE connection answering r with status.
func (h *Hub) sseConn(w http.ResponseWriter, r *http.Request, status int) (*conn, net.Conn) {
	var gzip *streamCodec
	if h.opt.AcceptsGzip != nil && h.opt.AcceptsGzip(r) {
		gzip = h.gzip
	}
	out, raw := newSink(w)
	sw := h.newStreamWriter(out)
	c := h.newConn("sse", h.sse.outlet(sw, gzip, status))
	sw.failed = func() { h.cutOff(c, "write_timeout") }
	watchRequest(r, raw, c)
	return c, raw
}

// watchRequest ends c when its client goes away while net/http still owns
// the connection (HTTP/2): then the request's context tells.
func watchRequest(r *http.Request, raw net.Conn, c *conn) {
	if raw == nil {
		context.AfterFunc(r.Context(), c.cancel)
	}
}

func (h *Hub) newConn(transport string, out outlet) *conn {
	return newConn(transport, out, h.queueLen())
}

// queueLen is how many events one connection may have waiting.
func (h *Hub) queueLen() int { return h.opt.QueueSize + 64 }

// admit registers c as a connection of userID. A connection over the
// caps is refused through the same path as any event, with a ClosedEvent
// saying why, and one the hub is closing to ends at once; then u is nil.
// The replay to run follows.
func (h *Hub) admit(userID int64, c *conn, replay Replay) (*user, Replay) {
	u, err := h.attach(userID, c)
	if err == nil {
		return u, replay
	}
	if why := h.tooMany(err); why != "" {
		h.log.Debug("stream refused", "user", userID, "err", err)
		if r, ok := c.out.(interface{ refused() }); ok {
			r.refused()
		}
		c.finish(closedNotice(why), endRefused)
	} else {
		if r, ok := c.out.(interface{ unavailable() }); ok {
			r.unavailable()
		}
		c.finish(nil, endResume) // come back shortly
	}
	return nil, nil
}

// open admits c and runs it. raw, when not nil, is the hijacked network
// connection: the stream then runs on its own goroutine, which watches for
// the client's going, and open returns at once.
func (h *Hub) open(userID int64, c *conn, raw net.Conn, replay Replay) {
	u, replay := h.admit(userID, c, replay)
	h.start(c, u, raw, replay)
}

// start runs c; see open.
func (h *Hub) start(c *conn, u *user, raw net.Conn, replay Replay) {
	if raw == nil {
		h.run(c, u, replay)
		return
	}
	if forget, ok := h.closes.watch(raw, c.cancel); ok {
		go func() {
			h.run(c, u, replay)
			forget()
		}()
		return
	}
	go watchClose(raw, c.cancel)
	go h.run(c, u, replay)
}

// run streams until the connection ends, then lets go of it. u is nil for
// a refused connection.
func (h *Hub) run(c *conn, u *user, replay Replay) {
	if u != nil {
		h.log.Debug("stream opened", "user", u.id)
		defer h.log.Debug("stream closed", "user", u.id)
	}
	replayed := make(chan struct{})
	started := false
	c.out.serve(c.ctx, func() {
		started = true
		// On its own goroutine: the outlet must be reading while the
		// replay queues, and the replay's queries and rendering need a
		// deep stack, which would otherwise stay with the stream's
		// goroutine, idle, for the life of the stream.
		go func() {
			defer close(replayed)
			h.replay(c, replay)
		}()
	})
	c.cancel()
	if started {
		<-replayed
	}
	c.out.close(c.endedInOrder())
	if u != nil {
		h.detach(u, c)
	}
}

// replay runs a connection's replay, then lets the live events held
// meanwhile go.
func (h *Hub) replay(c *conn, replay Replay) {
	if replay != nil {
		if err := replay(c.ctx, c.send); err != nil {
			if !errors.Is(err, errCut) && c.ctx.Err() == nil {
				h.log.Warn("stream replay failed", "err", err)
			}
			c.kill()
			return
		}
	}
	if !c.release() {
		h.cutOff(c, "queue_full")
	}
}

// attach registers a connection.
func (h *Hub) attach(userID int64, c *conn) (*user, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errClosed
	}
	u := h.users[userID]
	if u != nil && !c.guest {
		if err := h.over(u, c.session); err != nil {
			return nil, err
		}
	}
	if u == nil {
		u = &user{id: userID}
		h.users[userID] = u
	}
	u.conns = append(u.conns, c)
	h.opt.Meter.StreamOpened(c.transport)
	if !c.guest {
		u.chose = c.chose // the newest word on it
		h.opened(userID)
	}
	if c.light {
		u.light++
	}
	return u, nil
}

// detach lets go of an ended connection, and of its user with their last.
func (h *Hub) detach(u *user, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, x := range u.conns {
		if x == c {
			u.conns[i] = u.conns[len(u.conns)-1]
			u.conns[len(u.conns)-1] = nil
			u.conns = u.conns[:len(u.conns)-1]
			break
		}
	}
	if c.light {
		u.light--
	}
	h.opt.Meter.StreamClosed(c.transport)
	if !c.guest {
		h.gone(u.id)
	}
	if len(u.conns) > 0 {
		return
	}
	delete(h.users, u.id)
	if h.closed && len(h.users) == 0 {
		close(h.drained)
	}
}

// over reports why one more connection of session would be too many for
// u: streams are counted per browser (sign-in), and browsers per user.
func (h *Hub) over(u *user, session string) error {
	same := 0
	sessions := make(map[string]struct{}, len(u.conns))
	for _, c := range u.conns {
		sessions[c.session] = struct{}{}
		if c.session == session {
			same++
		}
	}
	if same >= h.opt.MaxConnsPerSession {
		return errTooManyTabs
	}
	if _, known := sessions[session]; !known && len(sessions) >= h.opt.MaxSessionsPerUser {
		return errTooManyBrowsers
	}
	return nil
}

// tooMany is what a page shows when its stream is refused by err, or ""
// if err is no such refusal.
func (h *Hub) tooMany(err error) string {
	switch err {
	case errTooManyTabs:
		return fmt.Sprintf("Live updates are off in this tab: %d other tabs of this browser are live, and it cannot share "+
			"one connection between them. Close a tab and reload this one, or use a current browser, whose tabs share one.",
			h.opt.MaxConnsPerSession)
	case errTooManyBrowsers:
		return fmt.Sprintf("Live updates are off here: you are live in %d other browsers or devices. "+
			"Log out where you no longer need it, then reload.", h.opt.MaxSessionsPerUser)
	}
	return ""
}

// closedNotice is the ClosedEvent refusing a stream for why.
func closedNotice(why string) func(int64) *Event {
	return func(lastID int64) *Event {
		return &Event{ID: lastID, Name: ClosedEvent, Data: []byte(strings.ReplaceAll(why, "\n", " "))}
	}
}

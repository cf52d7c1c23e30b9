package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/r3labs/sse/v2"
)

// Replay sends what a connecting client missed, one event per send call:
// id becomes the SSE id, event the SSE event name (empty for a fragment to
// swap). The hub calls it once the connection is already subscribed to live
// events, so a message committed while Replay runs is delivered live if not
// replayed: never lost, at worst sent twice (fragments replace themselves by
// id). It is an alias so callers need not import this package.
type Replay = func(ctx context.Context, send func(id int64, event string, data []byte) error) error

var (
	errCut             = errors.New("hub: stream cut off")
	errClosed          = errors.New("hub: closed")
	errTooManyTabs     = errors.New("hub: too many streams in one browser")
	errTooManyBrowsers = errors.New("hub: too many browsers streaming")
)

// ClosedEvent is the SSE event name of a refusal the page should not retry;
// its data says why.
const ClosedEvent = "rtm-closed"

// aLongTimeAgo is a deadline that makes any pending write fail at once.
var aLongTimeAgo = time.Unix(1, 0)

// conn is one open stream connection (one browser tab).
type conn struct {
	out    sink
	cancel context.CancelFunc
	killed atomic.Bool
	// session names the sign-in the connection was opened with; valid
	// re-checks it (nil: never). ended is set when it ends the connection.
	session string
	valid   func() bool
	ended   atomic.Bool
	guest   bool // a room's read-only guest: no per-user limits
	light   bool // sent Save-Data: wants no typing or presence events
	chose   bool // its user chose light mode, as Options.Light said at connect
}

// end closes the connection because its sign-in is over. Unlike kill, it
// lets what is queued go out whole and then tells the client why, so a
// page stops reconnecting and says it was signed out. It reports whether
// this call did the ending.
func (c *conn) end() bool {
	if c.killed.Load() || c.ended.Swap(true) {
		return false
	}
	c.cancel()
	return true
}

// kill ends the connection now: its context is cancelled, which makes r3labs
// deregister it, and every write fails at once. It reports whether this call
// did the killing.
func (c *conn) kill() bool {
	if c.killed.Swap(true) {
		return false
	}
	c.cancel()
	_ = c.out.setWriteDeadline(aLongTimeAgo)
	return true
}

// Serve streams live events of user's rooms to w until the client goes away,
// the connection is cut off, its session ends or the hub closes. The caller
// must have authenticated user; nothing in r decides whose stream this is.
// session names the sign-in (EndSession closes its connections) and valid,
// if not nil, re-checks it at every heartbeat. On HTTP/1.1 it takes the
// connection over and returns at once, the stream running on its own
// goroutine.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, userID int64, session string, valid func() bool, replay Replay) {
	h.serve(w, r, userID, &conn{session: session, valid: valid, light: saveData(r), chose: h.chose(userID)}, replay)
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

// ServeGuest streams room's live events to a visitor with no account (a
// read-only guest of an embedded room). A room's guests share one stream
// of their own, as one user's tabs do, so a guest costs what a tab costs;
// they are not counted against any user's limits.
func (h *Hub) ServeGuest(w http.ResponseWriter, r *http.Request, room int64, replay Replay) {
	h.Join(room, guestsOf(room))
	h.serve(w, r, guestsOf(room), &conn{guest: true}, replay)
}

// guestsOf is the stream key of room's guests: negative, never a user id.
func guestsOf(room int64) int64 { return -room }

func (h *Hub) serve(w http.ResponseWriter, r *http.Request, userID int64, c *conn, replay Replay) {
	h.serveVia(w, r, userID, c, replay, nil)
}

// serveVia is serve with the stream's sink wrapped by wrap (nil: as is),
// which encodes it for another transport.
func (h *Hub) serveVia(w http.ResponseWriter, r *http.Request, userID int64, c *conn, replay Replay, wrap func(sink) sink) {
	out, raw := newSink(w)
	if wrap != nil {
		out = wrap(out)
	}
	parent := r.Context()
	if raw != nil {
		// The request ends when Serve returns; the stream does not, and it
		// needs nothing from the request's context: letting go of it frees
		// the request and everything hung on it.
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	c.out, c.cancel = out, cancel
	u, err := h.attach(userID, c)
	if err != nil {
		cancel()
		if why := h.tooMany(err); why != "" {
			h.log.Debug("stream refused", "user", userID, "err", err)
			if d, ok := out.(*docSink); ok {
				d.refused()
			}
			refuse(out, why)
		} else {
			http.Error(out, "The server is restarting; reconnect shortly.", http.StatusServiceUnavailable)
		}
		out.flush()
		out.close()
		return
	}
	if raw == nil {
		h.run(ctx, c, u, r.URL.Path, replay)
		return
	}
	go watchClose(raw, cancel)
	go h.run(ctx, c, u, r.URL.Path, replay)
}

// run streams until the subscriber ends, then lets go of the connection.
func (h *Hub) run(ctx context.Context, c *conn, u *user, path string, replay Replay) {
	sw := &streamWriter{out: c.out, c: c, timeout: h.opt.WriteTimeout,
		flushRate: h.opt.FlushRate, flushBurst: float64(h.opt.FlushBurst), tokens: float64(h.opt.FlushBurst), last: time.Now()}
	sw.onSubscribed = func() {
		if replay == nil {
			return
		}
		// On its own goroutine: the replay's queries and rendering need a
		// deep stack, which would otherwise stay with the stream's
		// goroutine, idle, for the life of the stream.
		done := make(chan error, 1)
		go func() { done <- replay(ctx, sw.send) }()
		if err := <-done; err != nil && !errors.Is(err, errCut) {
			h.log.Warn("stream replay failed", "user", u.key, "err", err)
			c.kill()
		}
	}

	h.log.Debug("stream opened", "user", u.key)
	defer h.log.Debug("stream closed", "user", u.key)

	// r3labs reads only the URL's stream= and Last-Event-ID from the request:
	// give it a bare one naming the signed-in user's stream, whatever the
	// query said, and no Last-Event-ID (resuming is our job; AutoReplay is
	// off). A bare request also holds no copy of the client's headers for
	// the life of the stream.
	sub := (&http.Request{
		Method: http.MethodGet,
		URL:    &url.URL{Path: path, RawQuery: "stream=" + u.key},
		Header: http.Header{},
	}).WithContext(ctx)
	h.srv.ServeHTTP(sw, sub)
	sw.finish()

	c.cancel() // lets r3labs deregister the subscriber, which drops the ref
	h.mu.Lock()
	delete(u.conns, c)
	if c.light {
		u.light--
	}
	if !c.guest {
		h.gone(u.id)
	}
	h.mu.Unlock()
	if !sw.wasSubscribed() {
		h.release(u) // r3labs returned before subscribing: no unsubscribe will come
	}
}

// attach registers a connection and makes sure the user's stream exists.
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
		u = &user{id: userID, key: strconv.FormatInt(userID, 10), conns: make(map[*conn]struct{})}
		h.srv.CreateStream(u.key)
		h.users[userID] = u
	}
	u.refs++
	u.conns[c] = struct{}{}
	if !c.guest {
		u.chose = c.chose // the newest word on it
	}
	if c.light {
		u.light++
	}
	if !c.guest {
		h.opened(userID)
	}
	return u, nil
}

// over reports why one more connection of session would be too many for
// u: streams are counted per browser (sign-in), and browsers per user.
func (h *Hub) over(u *user, session string) error {
	same := 0
	sessions := make(map[string]struct{}, len(u.conns))
	for c := range u.conns {
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

// refuse answers a stream request with one ClosedEvent. The event has no id
// field, so the browser's resume point stays where it was.
func refuse(w http.ResponseWriter, why string) {
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("event: " + ClosedEvent + "\ndata: " + strings.ReplaceAll(why, "\n", " ") + "\n\n"))
}

// unsubscribed runs (on its own goroutine, from r3labs) after a subscriber
// has been deregistered from its stream.
func (h *Hub) unsubscribed(streamID string, _ *sse.Subscriber) {
	id, err := strconv.ParseInt(streamID, 10, 64)
	if err != nil {
		return
	}
	h.mu.RLock()
	u := h.users[id]
	h.mu.RUnlock()
	if u != nil {
		h.release(u)
	}
}

func (h *Hub) release(u *user) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u.refs--
	if u.refs > 0 {
		return
	}
	h.srv.RemoveStream(u.key)
	id, _ := strconv.ParseInt(u.key, 10, 64)
	delete(h.users, id)
	if h.closed && len(h.users) == 0 {
		close(h.drained)
	}
}

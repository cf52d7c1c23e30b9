// Package hub fans rendered message fragments out to connected users.
//
// Each signed-in user has a stream: one connection per open tab, over SSE
// (written by r3labs/sse), WebSocket or a streamed HTML document. The hub
// keeps the room → members index and queues a message's Event once per
// member connection with a non-blocking send, so a slow reader can only
// ever hurt itself: when its queue is full it is cut off and resumes later
// from Last-Event-ID. The hub knows users, rooms and bytes; it renders
// nothing and runs no SQL.
package hub

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Options configure a Hub. Zero values pick the defaults.
type Options struct {
	// Heartbeat is how often an idle stream gets a comment line, so proxies
	// and browsers keep it open (default 15 s).
	Heartbeat time.Duration
	// HeartbeatTicks, if set, drives the heartbeats (and the session checks
	// that follow each) instead of a ticker every Heartbeat: for tests.
	HeartbeatTicks <-chan time.Time
	// WriteTimeout bounds each write to a stream; a reader that does not take
	// an event within it is disconnected (default 10 s).
	WriteTimeout time.Duration
	// QueueSize is how many events may wait per connection, beyond 64
	// more on their way to the client, before it counts as lagging and is
	// cut off (default 64).
	QueueSize int
	// MaxHold is the longest an event may wait to share a write (a system
	// call) with the events after it, on the busiest streams (default
	// 20 ms). How long a stream's writes are spaced grows with the square
	// of its event rate, reaching MaxHold at 400 events a second: see
	// streamWriter.
	MaxHold time.Duration
	// WSOrigins allows WebSocket connections from these origins besides the
	// site itself: host patterns (path.Match, any case), or scheme://host
	// ones (see wsock.Options.OriginPatterns).
	WSOrigins []string
	// WSReadLimit caps one message from a client, inflated (default 64 KiB).
	WSReadLimit int64
	// MaxConnsPerSession caps the open streams of one sign-in, that is of
	// one browser (default 4). The tabs of a current browser share one
	// stream; a browser that cannot share opens one per tab, and holding
	// more than four of its six connections to the site would starve page
	// loads and posts. The next one gets a ClosedEvent saying why.
	MaxConnsPerSession int
	// MaxSessionsPerUser caps how many sign-ins (browsers, devices) of one
	// user may stream at once (default 10).
	MaxSessionsPerUser int
	Logger             *slog.Logger

	// Typing and presence (see live.go). RenderTyping renders the event
	// telling a room who is typing there; RenderPresence the one telling
	// it whose presence changed. Each is rendered once per room and flush,
	// and without it that kind of event is off.
	RenderTyping   func(room int64, typists []chat.Typist) []byte
	RenderPresence func(room int64, changes []chat.PresenceChange) []byte
	// TypingFor is how long one typing signal shows (default 6 s);
	// TypingEvery and PresenceEvery how often changes are flushed
	// (defaults 1 s and 3 s). AwayAfter turns a person with open pages
	// but no activity away (default 5 min); OfflineAfter is how long one
	// whose last stream closed still shows as before (default 5 s).
	TypingFor, TypingEvery, PresenceEvery, AwayAfter, OfflineAfter time.Duration
	// TypingTicks and PresenceTicks, if set, drive the flushes instead of
	// tickers, and Now is the clock: for tests.
	TypingTicks, PresenceTicks <-chan time.Time
	Now                        func() time.Time
	// Light, if set, reports whether user chose to do without typing and
	// presence (a "light mode" setting); asked at each stream connect, and
	// SetLight tells of a change. A stream request with Save-Data: on is
	// light too. A light user's
	// streams get neither kind of event, whichever of their browsers
	// asked: all their connections share one queue.
	Light func(user int64) bool
	// SidebarEvery is how often connections that save data get their
	// coalesced sidebar updates (default 5 s); SidebarTicks, if set,
	// drives them instead: for tests.
	SidebarEvery time.Duration
	SidebarTicks <-chan time.Time
	// AcceptsGzip reports whether a stream request takes gzip (the app's
	// own content negotiation); without it streams are never compressed.
	AcceptsGzip func(*http.Request) bool
	// StreamPrimer is typical SSE text of the app's events (a rendered
	// message or two): SSE streams to clients that accept gzip are
	// compressed against it (see gzip.go). Without it they are compressed
	// all the same, less.
	StreamPrimer []byte
	// Meter, if set, is told of streams opening and closing, deliveries
	// and cut-offs (metrics).
	Meter Meter
}

// Meter counts what the hub does. Each method must be cheap: they run on
// the fan-out path.
type Meter interface {
	// StreamOpened and StreamClosed count connections by transport:
	// "sse", "ws" or "doc" (the no-script document stream).
	StreamOpened(transport string)
	StreamClosed(transport string)
	// Delivered counts events queued on n connections.
	Delivered(n int)
	// CutOff counts a connection cut off: "queue_full", "write_timeout",
	// "ping_timeout" or "shutdown".
	CutOff(reason string)
}

type noMeter struct{}

func (noMeter) StreamOpened(string) {}
func (noMeter) StreamClosed(string) {}
func (noMeter) Delivered(int)       {}
func (noMeter) CutOff(string)       {}

// Hub is the fan-out point. Its methods are safe for concurrent use.
type Hub struct {
	opt     Options
	sse     *sseServer
	gzip    *streamCodec // for SSE streams
	docGzip *streamCodec // for streamed documents
	wsGzip  *streamCodec // for WebSockets
	// closes tells hijacked streams that their clients went away (nil:
	// each watches on a goroutine of its own).
	closes *closeWatch
	log    *slog.Logger

	mu       sync.RWMutex
	rooms    map[int64]map[int64]struct{} // room → member user ids, connected or not
	memberOf map[int64]map[int64]struct{} // user → their rooms: the same, the other way
	users    map[int64]*user              // users with a live or starting stream
	closed   bool
	// resyncing counts Resyncs reading the store; meanwhile moves records
	// each Join and Leave, to apply again over what they read.
	resyncing int
	moves     []move
	drained   chan struct{} // closed once closed and no user remains

	stopHeartbeat chan struct{}
	heartbeatDone chan struct{}
	checkNow      chan struct{} // CheckSessions: a check of every session, soon

	latest atomic.Int64 // the newest message id published
	live   *live
}

// user is one user's open connections (or one room's guests').
type user struct {
	id    int64
	conns []*conn
	light int  // connections that sent Save-Data
	chose bool // the user chose light mode
}

// wantsLive reports whether u takes typing and presence events: not if
// they chose light mode, nor while any of their connections saves data
// (a Save-Data browser's tabs need not say so each).
func (u *user) wantsLive() bool { return u.light == 0 && !u.chose }

// New starts a hub.
func New(opt Options) *Hub {
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = 15 * time.Second
	}
	if opt.WriteTimeout <= 0 {
		opt.WriteTimeout = 10 * time.Second
	}
	if opt.QueueSize <= 0 {
		opt.QueueSize = 64
	}
	if opt.MaxHold <= 0 {
		opt.MaxHold = 20 * time.Millisecond
	}
	if opt.WSReadLimit <= 0 {
		opt.WSReadLimit = 64 << 10
	}
	if opt.MaxConnsPerSession <= 0 {
		opt.MaxConnsPerSession = 4
	}
	if opt.Meter == nil {
		opt.Meter = noMeter{}
	}
	if opt.MaxSessionsPerUser <= 0 {
		opt.MaxSessionsPerUser = 10
	}
	opt.TypingFor = cmp.Or(max(opt.TypingFor, 0), DefaultTypingFor)
	opt.TypingEvery = cmp.Or(max(opt.TypingEvery, 0), DefaultTypingEvery)
	opt.PresenceEvery = cmp.Or(max(opt.PresenceEvery, 0), DefaultPresenceEvery)
	opt.AwayAfter = cmp.Or(max(opt.AwayAfter, 0), DefaultAwayAfter)
	opt.OfflineAfter = cmp.Or(max(opt.OfflineAfter, 0), DefaultOfflineAfter)
	opt.SidebarEvery = cmp.Or(max(opt.SidebarEvery, 0), DefaultSidebarEvery)
	h := &Hub{
		opt:           opt,
		log:           opt.Logger,
		rooms:         make(map[int64]map[int64]struct{}),
		memberOf:      make(map[int64]map[int64]struct{}),
		users:         make(map[int64]*user),
		drained:       make(chan struct{}),
		stopHeartbeat: make(chan struct{}),
		checkNow:      make(chan struct{}, 1),
		heartbeatDone: make(chan struct{}),
		live:          newLive(),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.sse = newSSEServer(opt.QueueSize)
	h.gzip = newStreamCodec(opt.StreamPrimer)
	h.docGzip = newDocCodec(opt.StreamPrimer)
	h.wsGzip = newSocketCodec(opt.StreamPrimer)
	h.closes = newCloseWatch()
	go h.heartbeats()
	h.startLive()
	return h
}

// Join records that user is a member of room.
func (h *Hub) Join(room, userID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addMember(room, userID)
	h.noteMove(move{room, userID, true})
}

// addMember adds user to room's index. The caller holds h.mu for writing.
func (h *Hub) addMember(room, userID int64) {
	members := h.rooms[room]
	if members == nil {
		members = make(map[int64]struct{})
		h.rooms[room] = members
	}
	members[userID] = struct{}{}
	h.joined(room, userID)
}

// Leave records that user left (or was removed from) room. Nothing of room
// reaches them from now on: their open streams are cut as well, which drops
// events already queued and any replay in progress; browsers reconnect and
// resume with only the rooms they are still in.
func (h *Hub) Leave(room, userID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeMember(room, userID)
	h.noteMove(move{room, userID, false})
	if u := h.users[userID]; u != nil {
		for _, c := range u.conns {
			c.kill() // not a slow reader: no cut-off to count
		}
	}
}

// removeMember takes user out of room's index. The caller holds h.mu for
// writing.
func (h *Hub) removeMember(room, userID int64) {
	delete(h.rooms[room], userID)
	if len(h.rooms[room]) == 0 {
		delete(h.rooms, room)
	}
	h.left(room, userID)
}

// Publish sends one message fragment to every connected member of room. The
// same event, and so the same bytes, goes to all of them. id becomes the
// event's id, so it must be the message id: browsers resume from it.
func (h *Hub) Publish(room, id int64, data []byte) {
	h.PublishExcept(room, 0, id, data)
}

// PublishExcept is Publish to every member of room but one (an
// announcement's sender, who sees its status instead). It reports how many
// users the event reached: queued on at least one open connection of theirs.
func (h *Hub) PublishExcept(room, except, id int64, data []byte) (reached int) {
	ev := newEvent(id, "", data)
	if ev == nil {
		return 0
	}
	var lagging []*conn
	delivered := 0
	h.mu.RLock()
	if !h.closed {
		for uid := range h.rooms[room] {
			if uid == except {
				continue
			}
			if u := h.users[uid]; u != nil {
				var n int
				n, lagging = u.offer(ev, lagging, nil)
				if n > 0 {
					reached++
					delivered += n
				}
			}
		}
	}
	h.mu.RUnlock()
	h.noteLatest(id) // after the fan-out: an event with this id now follows it
	h.opt.Meter.Delivered(delivered)
	h.cutLagging(lagging)
	return reached
}

// offer queues ev on each of u's connections, adding those that lag to
// lagging. hold, if not nil, may take the event for a connection instead
// (and report so). n is how many took it.
func (u *user) offer(ev *Event, lagging []*conn, hold func(*user, *conn) bool) (n int, _ []*conn) {
	for _, c := range u.conns {
		if hold != nil && hold(u, c) {
			n++
			continue
		}
		switch c.offer(ev) {
		case queued:
			n++
		case full:
			lagging = append(lagging, c)
		}
	}
	return n, lagging
}

// cutLagging cuts off connections whose queue is full: each resumes from
// the last event it got.
func (h *Hub) cutLagging(conns []*conn) {
	for _, c := range conns {
		h.cutOff(c, "queue_full")
	}
}

// cutOff kills c now and counts it under reason.
func (h *Hub) cutOff(c *conn, reason string) {
	if c.kill() {
		h.opt.Meter.CutOff(reason)
		h.log.Info("stream cut off", "transport", c.transport, "reason", reason)
	}
}

// PublishTo sends an event to one user's open streams, whatever rooms they
// are in. id must not run ahead of any message not yet published to them:
// the caller passes the newest message id already published.
func (h *Hub) PublishTo(userID, id int64, data []byte) bool {
	return h.publishToUser(userID, newEvent(id, "", data), nil)
}

// publishToUser queues ev on user's connections (hold: see user.offer).
func (h *Hub) publishToUser(userID int64, ev *Event, hold func(*user, *conn) bool) bool {
	if ev == nil {
		return false
	}
	var lagging []*conn
	n := 0
	h.mu.RLock()
	if u := h.users[userID]; u != nil && !h.closed {
		n, lagging = u.offer(ev, nil, hold)
	}
	h.mu.RUnlock()
	h.opt.Meter.Delivered(n)
	h.cutLagging(lagging)
	return n > 0
}

// Online reports whether user has an open stream.
func (h *Hub) Online(userID int64) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	u := h.users[userID]
	return u != nil && len(u.conns) > 0
}

// Stats reports how many users have a stream and how many connections are open.
func (h *Hub) Stats() (users, conns int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, u := range h.users {
		conns += len(u.conns)
	}
	return len(h.users), conns
}

// Close ends every stream cleanly (clients reconnect and resume) and waits
// until all are gone or ctx ends, when it cuts the rest off.
func (h *Hub) Close(ctx context.Context) error {
	defer h.closes.stop() // once every stream has ended
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		<-h.drained
		return nil
	}
	h.closed = true
	close(h.stopHeartbeat)
	var all []*user
	for _, u := range h.users {
		all = append(all, u)
	}
	if len(h.users) == 0 {
		close(h.drained)
	}
	h.mu.Unlock()
	<-h.heartbeatDone
	h.stopLive()

	for _, u := range all {
		h.finishAll(u, endResume)
	}
	select {
	case <-h.drained:
		return nil
	case <-ctx.Done():
	}
	h.mu.RLock()
	for _, u := range h.users {
		h.cutLocked(u, "shutdown")
	}
	h.mu.RUnlock()
	<-h.drained
	return ctx.Err()
}

func (h *Hub) heartbeats() {
	defer close(h.heartbeatDone)
	ticks := h.opt.HeartbeatTicks
	if ticks == nil {
		t := time.NewTicker(h.opt.Heartbeat)
		defer t.Stop()
		ticks = t.C
	}
	for {
		select {
		case <-h.stopHeartbeat:
			return
		case <-h.checkNow:
			h.checkSessions()
			continue
		case <-ticks:
		}
		var lagging []*conn
		h.mu.RLock()
		for _, u := range h.users {
			_, lagging = u.offer(heartbeatEvent, lagging, nil)
		}
		h.mu.RUnlock()
		h.cutLagging(lagging)
		h.checkSessions()
	}
}

// finishAll ends every connection of u in order: what is queued goes
// out, then the end, and the clients reconnect and resume. The users to
// finish were listed under h.mu, which is not held now.
func (h *Hub) finishAll(u *user, why endReason) {
	h.mu.RLock()
	conns := append([]*conn(nil), u.conns...)
	h.mu.RUnlock()
	for _, c := range conns {
		c.finish(nil, why)
	}
}

// cutLocked disconnects every connection of a user now. The caller holds
// h.mu.
func (h *Hub) cutLocked(u *user, reason string) {
	for _, c := range u.conns {
		h.cutOff(c, reason)
	}
}

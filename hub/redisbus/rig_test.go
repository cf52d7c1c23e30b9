package redisbus

import (
	"context"
	"github.com/rtmessenger/rtmessenger/internal/poll"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/internal/redistest"
	"github.com/rtmessenger/rtmessenger/internal/sseclient"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// db is the database the nodes share, as far as streams care: committed
// events in id order and who is in which room.
type db struct {
	mu      sync.Mutex
	events  []stored
	members map[chat.Membership]bool
}

type stored struct {
	id, room int64
	data     string
}

func newDB() *db { return &db{members: map[chat.Membership]bool{}} }

// commit stores an event in room and returns its id.
func (d *db) commit(room int64, data string) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	id := int64(len(d.events) + 1)
	d.events = append(d.events, stored{id, room, data})
	return id
}

func (d *db) latest() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return int64(len(d.events))
}

func (d *db) setMember(room, user int64, in bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.members[chat.Membership{RoomID: room, UserID: user}] = in
}

func (d *db) memberships() []chat.Membership {
	d.mu.Lock()
	defer d.mu.Unlock()
	var all []chat.Membership
	for m, in := range d.members {
		if in {
			all = append(all, m)
		}
	}
	return all
}

// missed is what a replay sends user after id: events of their rooms.
func (d *db) missed(user, after int64) []stored {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []stored
	for _, e := range d.events {
		if e.id > after && d.members[chat.Membership{RoomID: e.room, UserID: user}] {
			out = append(out, e)
		}
	}
	return out
}

// node is one server: a hub, its HTTP streams and its bus.
type node struct {
	t   *testing.T
	db  *db
	hub *hub.Hub
	bus *Bus
	srv *httptest.Server
	log *logLines
	// replays counts finished replays: a test posts only once a reader's
	// replay is done, or a message could come both ways.
	replays atomic.Int64
}

// logLines keeps what a node logs, for tests to count, and shows it when
// the test fails.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(p))
	return len(p), nil
}

// count is how many lines hold s.
func (l *logLines) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// newNode starts a node on redisAddr (Redis, or a proxy to it) and
// channel, knowing d's memberships, and waits until its bus is live.
func newNode(t *testing.T, d *db, redisAddr, channel string) *node {
	t.Helper()
	n := newStoppedNode(t, d, redisAddr, channel, Options{})
	n.bus.Start()
	n.waitHealthy()
	return n
}

// newStoppedNode is newNode with opt (URL, Local, CatchUp and Logger
// aside) and its bus not started; its hub has hubOpt, if given.
func newStoppedNode(t *testing.T, d *db, redisAddr, channel string, opt Options, hubOpt ...hub.Options) *node {
	t.Helper()
	n := &node{t: t, db: d, hub: hub.New(append(hubOpt, hub.Options{})[0]), log: &logLines{}}
	for _, m := range d.memberships() {
		n.hub.Join(m.RoomID, m.UserID)
	}
	opt.URL, opt.Local = "redis://"+redisAddr+"/0?channel="+channel, n.hub
	opt.CatchUp = func(context.Context) error {
		return n.hub.Resync(func() ([]chat.Membership, error) { return d.memberships(), nil })
	}
	opt.Logger = slog.New(slog.NewTextHandler(n.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	bus, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	n.bus = bus
	n.srv = httptest.NewServer(http.HandlerFunc(n.serve))
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("RTM_TEST_LOG") != "" {
			t.Logf("node log:\n%s", strings.Join(n.log.lines, ""))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.srv.Close()
		if err := bus.Close(ctx); err != nil {
			t.Errorf("bus close: %v", err)
		}
		if err := n.hub.Close(ctx); err != nil {
			t.Errorf("hub close: %v", err)
		}
	})
	return n
}

// serve streams as the user in X-User, with the session in ?session=,
// replaying from the shared database after Last-Event-ID.
func (n *node) serve(w http.ResponseWriter, r *http.Request) {
	uid, _ := strconv.ParseInt(r.Header.Get("X-User"), 10, 64)
	after, _ := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	replay := func(ctx context.Context, send func(int64, string, []byte) error) error {
		defer n.replays.Add(1)
		for _, e := range n.db.missed(uid, after) {
			if err := send(e.id, "", []byte(e.data)); err != nil {
				return err
			}
		}
		return nil
	}
	n.hub.Serve(w, r, uid, r.URL.Query().Get("session"), nil, replay)
}

// post commits an event on this node and publishes it, as the relay does.
func (n *node) post(room int64, data string) int64 {
	id := n.db.commit(room, data)
	n.bus.Publish(room, id, []byte(data))
	return id
}

func (n *node) waitHealthy() {
	n.t.Helper()
	waitFor(n.t, "the bus to be healthy", func() bool { return n.bus.Health() == nil })
}

func (n *node) waitConns(want int) {
	n.t.Helper()
	waitFor(n.t, strconv.Itoa(want)+" connections", func() bool { _, c := n.hub.Stats(); return c == want })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.Until(t, what, cond)
}

// endOfStream is what a reader reports when a stream ends (it then
// reconnects, as a page does, unless it was signed out).
const endOfStream = "(end)"

// reader is a page's stream: it reconnects with Last-Event-ID whenever the
// stream ends, and stops once signed out. It starts from the newest event,
// as a page rendered just now (an empty Last-Event-ID reads as 0 here).
type reader struct {
	events chan sseclient.Event
}

func (n *node) read(user int64, session string) *reader {
	n.t.Helper()
	rd := &reader{events: make(chan sseclient.Event, 1024)}
	replayed, from := n.replays.Load(), n.db.latest()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	n.t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		last := strconv.FormatInt(from, 10)
		for ctx.Err() == nil {
			var signedOut bool
			last, signedOut = n.stream(ctx, user, session, last, rd.events)
			if signedOut {
				return
			}
		}
	}()
	waitFor(n.t, "the reader's replay", func() bool { return n.replays.Load() > replayed })
	return rd
}

// stream reads one connection to its end, returning the last id seen.
func (n *node) stream(ctx context.Context, user int64, session, last string, out chan<- sseclient.Event) (string, bool) {
	req, _ := http.NewRequestWithContext(ctx, "GET", n.srv.URL+"/events?session="+session, nil)
	req.Header.Set("X-User", strconv.FormatInt(user, 10))
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	resp, err := n.srv.Client().Do(req)
	if err != nil {
		return last, false
	}
	defer resp.Body.Close()
	rd := sseclient.NewReader(resp.Body)
	for {
		ev, err := rd.Next()
		if err != nil {
			out <- sseclient.Event{Name: endOfStream}
			return last, false
		}
		if ev.ID != "" {
			last = ev.ID
		}
		out <- ev
		if ev.Name == hub.SignedOutEvent {
			return last, true
		}
	}
}

// next returns the next event, failing the test after 10 s.
func (rd *reader) next(t *testing.T) sseclient.Event {
	t.Helper()
	select {
	case ev := <-rd.events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event in 10 s")
		return sseclient.Event{}
	}
}

// until collects message ids (ends and named events aside) until sentinel
// arrives, and returns them in arrival order, sentinel included.
func (rd *reader) until(t *testing.T, sentinel int64) []int64 {
	t.Helper()
	var ids []int64
	for !slices.Contains(ids, sentinel) {
		if ev := rd.next(t); ev.Name == "" && ev.ID != "" {
			ids = append(ids, ev.IntID())
		}
	}
	return ids
}

// twoNodes starts two nodes on one channel of the Redis for tests, each
// through its own proxy, so either can lose Redis alone.
func twoNodes(t *testing.T, d *db) (a, b *node, pa, pb *redistest.Proxy) {
	t.Helper()
	addr, channel := redistest.Addr(t), redistest.Channel(t)
	pa, pb = redistest.NewProxy(t, addr), redistest.NewProxy(t, addr)
	return newNode(t, d, pa.Addr, channel), newNode(t, d, pb.Addr, channel), pa, pb
}

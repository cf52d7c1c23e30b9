package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/nginxtest"
	"github.com/rtmessenger/rtmessenger/internal/poll"
	"github.com/rtmessenger/rtmessenger/internal/sseclient"
	"github.com/rtmessenger/rtmessenger/store"
)

// The chaos tests' cast: people who chat through whatever servers are up
// behind one address (a server restarted on its own port, or nodes behind
// nginx), and the checks of what they saw against the database.

// chaosCast is six people in two rooms: users 0–2 in room A, 3–5 in room
// B, and 0 and 3 in both. Each follows their stream; 1, 2 post in A and 0,
// 3 in B.
type chaosCast struct {
	users   []*account
	rooms   []int64
	start   int64 // the newest id before anyone read: views are compared after it
	readers []*chaosReader
	posts   *posters

	stopReading context.CancelFunc
	reading     sync.WaitGroup
}

func newChaosCast(t *testing.T, base string) *chaosCast {
	t.Helper()
	c := &chaosCast{}
	for i := range 6 {
		c.users = append(c.users, newAccount(t, base, fmt.Sprintf("chaos%d", i)))
	}
	c.rooms = []int64{c.users[0].roomID(t, "room-a"), c.users[3].roomID(t, "room-b")}
	for i, u := range c.users {
		for _, r := range c.memberOf(i) {
			if _, err := u.post(fmt.Sprintf("/rooms/%d/join", r), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	return c
}

func (c *chaosCast) memberOf(i int) []int64 {
	switch {
	case i == 0 || i == 3:
		return c.rooms
	case i < 3:
		return c.rooms[:1]
	}
	return c.rooms[1:]
}

// follow opens everyone's stream, one after the other so that a least
// connections balancer spreads them over its nodes, each from the
// newest id in db.
func (c *chaosCast) follow(t *testing.T, db dbReader) {
	t.Helper()
	start, err := db.LatestID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c.start = start
	ctx, cancel := context.WithCancel(context.Background())
	c.stopReading = cancel
	t.Cleanup(func() { cancel(); c.reading.Wait() })
	for i, u := range c.users {
		r := &chaosReader{u: u, after: start, seen: map[int64]bool{}, rooms: map[int64][]int64{}}
		c.readers = append(c.readers, r)
		c.reading.Go(func() { r.run(ctx) })
		waitUntil(t, fmt.Sprintf("reader %d to connect", i), func() bool { return r.connections() > 0 })
	}
}

// post starts the posters: 0 and 3 in room B, 1 and 2 in room A.
func (c *chaosCast) post(t *testing.T) {
	var plan []postPlan
	for i, u := range c.users[:4] {
		rooms := c.memberOf(i)
		plan = append(plan, postPlan{u, rooms[len(rooms)-1]})
	}
	c.posts = startPosters(t, plan)
}

// settle stops posting, waits until every reader has every message the
// database holds in its rooms, stops reading and checks: each
// acknowledged post is stored once, nothing is stored twice, and each
// reader's view of each room, de-duplicated, equals the database (in the
// order stored when ordered, else as a set: nodes deliver each other's
// messages a little later than their own). It returns how many posts
// are stored.
func (c *chaosCast) settle(t *testing.T, db dbReader, ordered bool) int {
	t.Helper()
	c.posts.stop() // a post in flight commits before the database is read, not after
	want, bodies := storedView(t, db, c.rooms, c.start)
	c.waitCaughtUp(want)
	c.stopReading()
	c.reading.Wait()

	for body := range c.posts.ackedBodies() {
		if bodies[body] != 1 {
			t.Errorf("acknowledged %q is stored %d times", body, bodies[body])
		}
	}
	for body, n := range bodies {
		if n != 1 {
			t.Errorf("%q stored %d times", body, n)
		}
	}
	for i, r := range c.readers {
		for _, room := range c.memberOf(i) {
			if d := viewDiff(r.view(room, ordered), want[room]); d != "" {
				t.Errorf("reader %d (%s), room %d: %s", i, r.u.name, room, d)
			}
		}
	}
	return len(bodies)
}

// waitCaughtUp gives the readers a generous minute to see everything
// stored in their rooms; the checks after it say what is missing if they
// do not.
func (c *chaosCast) waitCaughtUp(want map[int64][]int64) {
	poll.Holds(time.Minute, func() bool {
		for i, r := range c.readers {
			for _, room := range c.memberOf(i) {
				if !r.hasAll(want[room]) {
					return false
				}
			}
		}
		return true
	})
}

// viewDiff describes how a reader's view of a room differs from the
// database's, or returns "".
func viewDiff(got, want []int64) string {
	if slices.Equal(got, want) {
		return ""
	}
	var missing, extra []int64
	for _, id := range want {
		if !slices.Contains(got, id) {
			missing = append(missing, id)
		}
	}
	for _, id := range got {
		if !slices.Contains(want, id) {
			extra = append(extra, id)
		}
	}
	if missing == nil && extra == nil {
		return fmt.Sprintf("saw the %d messages stored in another order", len(want))
	}
	return fmt.Sprintf("saw %d messages, the database holds %d: missing %v, not stored %v", len(got), len(want), missing, extra)
}

// dbReader is what the tests read from the database the servers share:
// the store's own methods, so that the checks hold for every backend.
type dbReader interface {
	LatestID(ctx context.Context) (int64, error)
	History(ctx context.Context, room, before int64, limit int) ([]chat.Message, bool, error)
}

// openDB opens the servers' database (an SQLite file or a PostgreSQL URL)
// beside them until the test ends. Only reads go through it.
func openDB(t *testing.T, db string) dbReader {
	t.Helper()
	st, err := openStore(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// storedView reads each room's message ids after start, oldest first, and
// how many times each text is stored.
func storedView(t *testing.T, db dbReader, rooms []int64, start int64) (map[int64][]int64, map[string]int) {
	t.Helper()
	byRoom, bodies := map[int64][]int64{}, map[string]int{}
	for _, r := range rooms {
		msgs, _, err := db.History(context.Background(), r, 0, 1_000_000)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.ID > start {
				byRoom[r] = append(byRoom[r], m.ID)
			}
			if m.Kind == chat.KindText {
				bodies[m.Body]++
			}
		}
	}
	return byRoom, bodies
}

var logTarget = regexp.MustCompile(`hx-target="#log-(\d+)"`)

// chaosReader follows one user's stream across crashes as a browser does:
// when the stream ends it reconnects soon, sending back the last event id
// it received (Last-Event-ID), and it keeps each room's messages in
// first-seen order.
type chaosReader struct {
	u     *account
	after int64

	mu     sync.Mutex
	seen   map[int64]bool
	rooms  map[int64][]int64
	resume string // Last-Event-ID for the next connection
	node   string // the upstream serving the open stream behind nginx; "" between streams
	opened int    // streams opened
}

func (r *chaosReader) run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := r.stream(ctx); err != nil {
			time.Sleep(50 * time.Millisecond) // no server answered: retry soon, as a browser would
		}
	}
}

// stream reads one connection until it ends.
func (r *chaosReader) stream(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", r.u.base+"/events?after="+strconv.FormatInt(r.after, 10), nil)
	r.mu.Lock()
	if r.resume != "" {
		req.Header.Set("Last-Event-ID", r.resume)
	}
	r.mu.Unlock()
	resp, err := (&http.Client{Jar: r.u.c.Jar}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK { // nginx with no node to reach
		return fmt.Errorf("GET /events: %s", resp.Status)
	}
	r.connected(resp.Header.Get(nginxtest.UpstreamHeader))
	rd := sseclient.NewReader(resp.Body)
	for {
		ev, err := rd.Next()
		if err != nil {
			break
		}
		r.record(ev)
	}
	r.closed(rd.LastEventID())
	return nil
}

// connected notes a new stream and the node serving it: the last upstream
// nginx tried.
func (r *chaosReader) connected(upstreams string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opened++
	tried := strings.Split(upstreams, ", ")
	r.node = tried[len(tried)-1]
}

// closed keeps the stream's last event id for the next one; a stream that
// ended before any event leaves the previous one, as in a browser.
func (r *chaosReader) closed(lastID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if lastID != "" {
		r.resume = lastID
	}
	r.node = ""
}

func (r *chaosReader) record(ev sseclient.Event) {
	m := logTarget.FindStringSubmatch(ev.Data)
	id := ev.IntID()
	// A replay across nodes may repeat events from before the page's
	// start (see Deps.ReplayFrom): the page shows them already.
	if m == nil || id <= 0 || id <= r.after {
		return
	}
	room, _ := strconv.ParseInt(m[1], 10, 64)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.seen[id] {
		r.seen[id] = true
		r.rooms[room] = append(r.rooms[room], id)
	}
}

func (r *chaosReader) connections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opened
}

// on is the node serving the open stream, "" between streams.
func (r *chaosReader) on() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.node
}

func (r *chaosReader) hasAll(ids []int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if !r.seen[id] {
			return false
		}
	}
	return true
}

// view is the room's ids as seen, each once: in first-seen order, or
// sorted as a page orders them.
func (r *chaosReader) view(room int64, ordered bool) []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := slices.Clone(r.rooms[room])
	if !ordered {
		slices.Sort(ids)
	}
	return ids
}

// postPlan is who posts where.
type postPlan struct {
	u    *account
	room int64
}

// posters post until stopped, each message retried with the same client
// id until it is acknowledged (through crashes and a proxy's 502s), and
// record what was acknowledged.
type posters struct {
	mu    sync.Mutex
	acked map[string]bool
	halt  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

func startPosters(t *testing.T, plan []postPlan) *posters {
	p := &posters{acked: map[string]bool{}, halt: make(chan struct{})}
	t.Cleanup(p.stop) // on a failure too, or they post on
	for _, pp := range plan {
		p.wg.Go(func() { p.run(pp) })
	}
	return p
}

func (p *posters) run(pp postPlan) {
	for n := 0; ; n++ {
		body := fmt.Sprintf("%s #%d", pp.u.name, n)
		form := url.Values{"body": {body}, "client_id": {fmt.Sprintf("%s-%d", pp.u.name, n)}}
		for {
			if _, err := pp.u.post(fmt.Sprintf("/rooms/%d/messages", pp.room), form); err == nil {
				break
			}
			select {
			case <-p.halt:
				return // stopped while no server answers: the post may or may not be stored
			case <-time.After(20 * time.Millisecond): // the server is down: retry soon
			}
		}
		p.mu.Lock()
		p.acked[body] = true
		p.mu.Unlock()
		select {
		case <-p.halt:
			return
		default:
		}
	}
}

// stop ends posting once each poster's post in flight is answered.
func (p *posters) stop() {
	p.once.Do(func() { close(p.halt) })
	p.wg.Wait()
}

func (p *posters) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acked)
}

func (p *posters) ackedBodies() map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.acked)
}

// pass waits until n more posts are acknowledged: disruptions are spaced
// in posts rather than in time, so a slow machine gets as much traffic
// between them as a fast one.
func (p *posters) pass(t *testing.T, n int) {
	t.Helper()
	want := p.count() + n
	waitUntil(t, fmt.Sprintf("%d more acknowledged posts", n), func() bool { return p.count() >= want })
}

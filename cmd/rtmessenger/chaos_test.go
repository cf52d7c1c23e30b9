package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/sseclient"
	"github.com/rtmessenger/rtmessenger/store"
)

// account is a user talking to whichever server process is up at base.
type account struct {
	name string
	base string
	c    *http.Client
}

func newAccount(t *testing.T, base, name string) *account {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	a := &account{name: name, base: base, c: &http.Client{
		Jar:           jar,
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	t.Cleanup(a.c.CloseIdleConnections)
	if _, err := a.post("/signup", url.Values{"username": {name}, "password": {"secret-" + name}}); err != nil {
		t.Fatal(err)
	}
	return a
}

// post sends a form and returns the redirect target of a 2xx/3xx answer.
func (a *account) post(path string, form url.Values) (string, error) {
	resp, err := a.c.PostForm(a.base+path, form)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return "", fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	return resp.Header.Get("Location"), nil
}

func (a *account) roomID(t *testing.T, name string) int64 {
	t.Helper()
	loc, err := a.post("/rooms", url.Values{"name": {name}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/rooms/"), 10, 64)
	if err != nil {
		t.Fatalf("create room redirected to %q", loc)
	}
	return id
}

// Stop the real binary with SIGTERM while 100 streams are open and posts are
// in flight: it must exit cleanly within five seconds, end every stream, and
// keep every post it acknowledged.
func TestSIGTERMWithOpenStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	db := filepath.Join(t.TempDir(), "term.db")
	p := startProc(t, freeAddr(t), db, "-max-tabs", "10", "-post-rate", "0", "-log-level", "debug")
	var users []*account
	for i := range 10 {
		users = append(users, newAccount(t, p.url, fmt.Sprintf("user%d", i)))
	}
	room := users[0].roomID(t, "all")
	for _, u := range users[1:] {
		if _, err := u.post(fmt.Sprintf("/rooms/%d/join", room), nil); err != nil {
			t.Fatal(err)
		}
	}
	var streams []*sseclient.Background
	for _, u := range users {
		for range 10 {
			resp, err := u.c.Get(p.url + "/events")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("stream: %v %v", resp, err)
			}
			defer resp.Body.Close()
			streams = append(streams, sseclient.Read(resp.Body))
		}
	}

	var acked atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, u := range users {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				form := url.Values{"body": {fmt.Sprintf("%s says %d", u.name, i)}, "client_id": {fmt.Sprintf("%s-%d", u.name, i)}}
				if _, err := u.post(fmt.Sprintf("/rooms/%d/messages", room), form); err != nil {
					return // the server is going away
				}
				acked.Add(1)
			}
		})
	}
	// A connection that never sends a request must not hold up the exit.
	idle, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	// SIGTERM once posts are flowing, however slow the machine.
	waitUntil(t, "50 acknowledged posts", func() bool { return acked.Load() >= 50 })
	took, err := p.terminate()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	// Not a bound on the time, which a loaded machine stretches: nothing
	// may have waited out the grace, or failed, on the way out.
	if w := p.log.shutdownWarnings(); len(w) > 0 {
		t.Fatalf("SIGTERM to exit took %v, and the shutdown warned:\n%s", took, strings.Join(w, "\n"))
	}
	for i, s := range streams {
		if !s.Ended(2 * time.Second) {
			t.Fatalf("stream %d still open after exit", i)
		}
	}
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	msgs, _, _ := st.History(context.Background(), room, 0, 1_000_000)
	stored := 0
	for _, m := range msgs {
		if m.Kind == chat.KindText {
			stored++
		}
	}
	if int64(stored) < acked.Load() {
		t.Fatalf("%d posts acknowledged but only %d stored", acked.Load(), stored)
	}
	t.Logf("SIGTERM with %d open streams: exit in %v; %d posts acknowledged, %d stored", len(streams), took.Round(time.Millisecond), acked.Load(), stored)
}

var logTarget = regexp.MustCompile(`hx-target="#log-(\d+)"`)

// chaosReader follows one user's stream across crashes, resuming from the
// last id it saw, and keeps each room's messages in first-seen order.
type chaosReader struct {
	u     *account
	after int64
	mu    sync.Mutex
	seen  map[int64]bool
	rooms map[int64][]int64
	last  int64
}

func (r *chaosReader) run(ctx context.Context) {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", r.u.base+"/events?after="+strconv.FormatInt(r.after, 10), nil)
		r.mu.Lock()
		if r.last > 0 {
			req.Header.Set("Last-Event-ID", strconv.FormatInt(r.last, 10))
		}
		r.mu.Unlock()
		resp, err := (&http.Client{Jar: r.u.c.Jar}).Do(req)
		if err != nil {
			time.Sleep(50 * time.Millisecond) // the server is down: retry soon, as a browser would
			continue
		}
		rd := sseclient.NewReader(resp.Body)
		for {
			ev, err := rd.Next()
			if err != nil {
				break
			}
			r.record(ev)
		}
		resp.Body.Close()
	}
}

func (r *chaosReader) record(ev sseclient.Event) {
	m := logTarget.FindStringSubmatch(ev.Data)
	id := ev.IntID()
	if m == nil || id <= 0 {
		return
	}
	room, _ := strconv.ParseInt(m[1], 10, 64)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.seen[id] {
		r.seen[id] = true
		r.rooms[room] = append(r.rooms[room], id)
	}
	r.last = max(r.last, id)
}

func (r *chaosReader) lastSeen() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// Kill -9 the real server at random moments while people post and read. At
// the end every acknowledged post is stored exactly once, and what each
// reader saw of each room, de-duplicated, equals the database, in order.
func TestChaosKillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos: kills and restarts the real binary")
	}
	const cycles = 6
	addr, db := freeAddr(t), filepath.Join(t.TempDir(), "chaos.db")
	p := startProc(t, addr, db, "-post-rate", "0")
	var users []*account
	for i := range 6 {
		users = append(users, newAccount(t, p.url, fmt.Sprintf("chaos%d", i)))
	}
	roomA, roomB := users[0].roomID(t, "room-a"), users[3].roomID(t, "room-b")
	for i, u := range users {
		for _, r := range []int64{roomA, roomB} {
			if (r == roomA && i < 3) || (r == roomB && i >= 3) || i == 0 || i == 3 {
				if _, err := u.post(fmt.Sprintf("/rooms/%d/join", r), nil); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	memberOf := func(i int) []int64 {
		switch {
		case i == 0 || i == 3:
			return []int64{roomA, roomB}
		case i < 3:
			return []int64{roomA}
		}
		return []int64{roomB}
	}

	start := latestID(t, db, p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var readers []*chaosReader
	var bg sync.WaitGroup
	for _, u := range users {
		r := &chaosReader{u: u, after: start, seen: map[int64]bool{}, rooms: map[int64][]int64{}}
		readers = append(readers, r)
		bg.Go(func() { r.run(ctx) })
	}

	// Posters retry each message with the same client id until it is
	// acknowledged, through crashes.
	var ackMu sync.Mutex
	acked := map[string]bool{}
	ackedNow := func() int {
		ackMu.Lock()
		defer ackMu.Unlock()
		return len(acked)
	}
	posting := make(chan struct{})
	stopPosting := sync.OnceFunc(func() { close(posting) })
	defer stopPosting() // on a failure too, or the posters run on
	var posters sync.WaitGroup
	for i, u := range users[:4] {
		posters.Go(func() {
			rooms := memberOf(i)
			room := rooms[len(rooms)-1] // chaos0 and chaos3 post in room B, the others in A
			for n := 0; ; n++ {
				select {
				case <-posting:
					return
				default:
				}
				body := fmt.Sprintf("%s #%d", u.name, n)
				form := url.Values{"body": {body}, "client_id": {fmt.Sprintf("%s-%d", u.name, n)}}
				for {
					if _, err := u.post(fmt.Sprintf("/rooms/%d/messages", room), form); err == nil {
						break
					}
					time.Sleep(20 * time.Millisecond) // the server is down: retry soon
				}
				ackMu.Lock()
				acked[body] = true
				ackMu.Unlock()
			}
		})
	}

	// Kills fall at random points in the flow of posts, counted in posts
	// acknowledged rather than in time, so a slow machine gets as much
	// traffic between kills as a fast one.
	postsPass := func(n int) {
		t.Helper()
		want := ackedNow() + n
		waitUntil(t, fmt.Sprintf("%d more acknowledged posts", n), func() bool { return ackedNow() >= want })
	}
	for range cycles {
		postsPass(20 + rand.IntN(120))
		p.kill()
		time.Sleep(time.Duration(50+rand.IntN(200)) * time.Millisecond) // downtime, during which posts fail and are retried
		p = startProc(t, addr, db, "-post-rate", "0")
	}
	postsPass(50)
	stopPosting()
	posters.Wait() // a post in flight commits before the count below, not after

	// Let the readers catch up with everything stored, then stop cleanly.
	final := latestID(t, db, p)
	for i, r := range readers {
		want := lastInRooms(t, db, memberOf(i), start, final)
		waitUntil(t, fmt.Sprintf("reader %d to reach id %d", i, want), func() bool { return r.lastSeen() >= want })
	}
	cancel()
	if _, err := p.terminate(); err != nil {
		t.Fatal(err)
	}
	bg.Wait()

	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	byRoom, count := map[int64][]int64{}, map[string]int{}
	for _, r := range []int64{roomA, roomB} {
		msgs, _, err := st.History(context.Background(), r, 0, 1_000_000)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.ID > start {
				byRoom[r] = append(byRoom[r], m.ID)
			}
			if m.Kind == chat.KindText {
				count[m.Body]++
			}
		}
	}
	ackMu.Lock()
	defer ackMu.Unlock()
	for body := range acked {
		if count[body] != 1 {
			t.Errorf("acknowledged %q is stored %d times", body, count[body])
		}
	}
	for body, n := range count {
		if n != 1 {
			t.Errorf("%q stored %d times", body, n)
		}
	}
	for i, r := range readers {
		for _, room := range memberOf(i) {
			if !slices.Equal(r.rooms[room], byRoom[room]) {
				t.Errorf("reader %d, room %d: saw %d messages, the database holds %d (or the order differs)",
					i, room, len(r.rooms[room]), len(byRoom[room]))
			}
		}
	}
	t.Logf("chaos: %d kill -9 cycles; %d posts acknowledged, %d stored, each once; %d readers each saw their rooms exactly as stored",
		cycles, len(acked), len(count), len(readers))
}

// latestID asks the running server's database (read-only, beside it).
func latestID(t *testing.T, db string, _ *proc) int64 {
	t.Helper()
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id, err := st.LatestID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// lastInRooms is the newest id in rooms within (after, upTo], or 0.
func lastInRooms(t *testing.T, db string, rooms []int64, after, upTo int64) int64 {
	t.Helper()
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var last int64
	for _, r := range rooms {
		msgs, _, err := st.History(context.Background(), r, upTo+1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) > 0 && msgs[0].ID > after {
			last = max(last, msgs[0].ID)
		}
	}
	return last
}

// waitUntil polls cond until it holds, failing the test after a minute: a
// deadline that only a broken server reaches, even on a loaded machine.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	const limit = time.Minute
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not there after %v", what, limit)
		}
		time.Sleep(5 * time.Millisecond) // the polling interval
	}
}

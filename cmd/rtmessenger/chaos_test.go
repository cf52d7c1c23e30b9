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
	c := newChaosCast(t, p.url)
	c.follow(t, openDB(t, db))
	c.post(t)
	// Kills fall at random points in the flow of posts, counted in posts
	// acknowledged rather than in time, so a slow machine gets as much
	// traffic between kills as a fast one.
	for range cycles {
		c.posts.pass(t, 20+rand.IntN(120))
		p.kill()
		time.Sleep(time.Duration(50+rand.IntN(200)) * time.Millisecond) // downtime, during which posts fail and are retried
		p = startProc(t, addr, db, "-post-rate", "0")
	}
	c.posts.pass(t, 50)
	stored := c.settle(t, openDB(t, db), true)
	t.Logf("chaos: %d kill -9 cycles; %d posts acknowledged, %d stored, each once; %d readers each saw their rooms exactly as stored",
		cycles, c.posts.count(), stored, len(c.readers))
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

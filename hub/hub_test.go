package hub

import (
	"bufio"
	"context"
	"fmt"
	"github.com/rtmessenger/rtmessenger/internal/poll"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/internal/sseclient"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rig serves a hub where the test names the user in a header; the real app
// takes it from the session.
type rig struct {
	t      *testing.T
	hub    *Hub
	srv    *httptest.Server
	replay func(user int64) Replay
	// valid, if set, decides whether the session named in ?session= is
	// still live at each heartbeat.
	valid func(session string) bool
}

func newRig(t *testing.T, opt Options) *rig {
	t.Helper()
	rg := &rig{t: t, hub: New(opt)}
	rg.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/doc" {
			rg.serveDoc(w, r) // doc_test.go
			return
		}
		uid, _ := strconv.ParseInt(r.Header.Get("X-User"), 10, 64)
		var replay Replay
		if rg.replay != nil {
			replay = rg.replay(uid)
		}
		session := r.URL.Query().Get("session")
		var valid func() bool
		if rg.valid != nil {
			valid = func() bool { return rg.valid(session) }
		}
		rg.hub.Serve(w, r, uid, session, valid, replay)
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := rg.hub.Close(ctx); err != nil {
			t.Errorf("hub close: %v", err)
		}
		rg.srv.Close()
	})
	return rg
}

type client struct {
	resp *http.Response
	bg   *sseclient.Background
}

// connect opens a stream as user and reads it in the background.
func (rg *rig) connect(user int64, query string) *client {
	rg.t.Helper()
	return rg.connectWith(user, query, nil)
}

// connectWith is connect with extra request headers.
func (rg *rig) connectWith(user int64, query string, header http.Header) *client {
	rg.t.Helper()
	req, _ := http.NewRequest("GET", rg.srv.URL+"/events"+query, nil)
	if header != nil {
		req.Header = header.Clone()
	}
	req.Header.Set("X-User", strconv.FormatInt(user, 10))
	resp, err := rg.srv.Client().Do(req)
	if err != nil {
		rg.t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		rg.t.Fatalf("connect: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	c := &client{resp: resp, bg: sseclient.Read(resp.Body)}
	rg.t.Cleanup(func() { resp.Body.Close() })
	return c
}

func (c *client) next(t *testing.T) sseclient.Event {
	t.Helper()
	ev, err := c.bg.Next(5 * time.Second)
	if err != nil {
		t.Fatalf("next event: %v", err)
	}
	return ev
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.Until(t, what, cond)
}

func (rg *rig) waitConns(n int) {
	rg.t.Helper()
	waitFor(rg.t, fmt.Sprintf("%d connections", n), func() bool { _, c := rg.hub.Stats(); return c == n })
}

func TestPublishReachesMembersOnly(t *testing.T) {
	rg := newRig(t, Options{})
	rg.hub.Join(10, 1)
	rg.hub.Join(10, 2)
	rg.hub.Join(20, 3)
	b, c := rg.connect(2, ""), rg.connect(3, "")
	rg.waitConns(2)

	rg.hub.Publish(10, 5, []byte("<p>for room 10</p>"))
	rg.hub.Publish(20, 6, []byte("<p>for room 20</p>"))
	if ev := b.next(t); ev.ID != "5" || ev.Data != "<p>for room 10</p>" {
		t.Fatalf("member got %+v", ev)
	}
	// The first thing the non-member sees is its own room's message.
	if ev := c.next(t); ev.ID != "6" {
		t.Fatalf("non-member got %+v", ev)
	}
}

func TestStreamIsTheServersChoiceNotTheQuery(t *testing.T) {
	rg := newRig(t, Options{})
	rg.hub.Join(10, 1)
	rg.hub.Join(20, 2)
	spy := rg.connect(2, "?stream=1") // asks for user 1's stream
	rg.waitConns(1)
	rg.hub.Publish(10, 7, []byte("secret"))
	rg.hub.Publish(20, 8, []byte("own"))
	if ev := spy.next(t); ev.ID != "8" {
		t.Fatalf("got %+v; the query must not pick the stream", ev)
	}
}

func TestEveryTabGetsEveryMessageInOrder(t *testing.T) {
	rg := newRig(t, Options{})
	rg.hub.Join(10, 1)
	tabs := []*client{rg.connect(1, ""), rg.connect(1, ""), rg.connect(1, "")}
	rg.waitConns(3)
	for id := int64(1); id <= 50; id++ {
		rg.hub.Publish(10, id, []byte(fmt.Sprint("m", id)))
	}
	for i, tab := range tabs {
		for id := int64(1); id <= 50; id++ {
			if ev := tab.next(t); ev.IntID() != id {
				t.Fatalf("tab %d: got id %s, want %d", i, ev.ID, id)
			}
		}
	}
}

func TestLineBreaksCannotForgeFields(t *testing.T) {
	rg := newRig(t, Options{})
	rg.hub.Join(10, 1)
	c := rg.connect(1, "")
	rg.waitConns(1)
	rg.hub.Publish(10, 3, []byte("a\r\nid: 99\revent: evil\ndata: x\r\n\r\n"))
	ev := c.next(t)
	if ev.ID != "3" || ev.Name != "" || ev.Data != "a\nid: 99\nevent: evil\ndata: x" {
		t.Fatalf("got %+v", ev)
	}
	rg.hub.Publish(10, 4, []byte("\r\n")) // nothing left after cleaning: not sent, stream stays up
	rg.hub.Publish(10, 5, []byte("after"))
	if ev := c.next(t); ev.ID != "5" {
		t.Fatalf("got %+v", ev)
	}
}

// A message committed while the replay runs must reach the client: the
// subscriber exists before the replay starts.
func TestReplayCannotMissALiveMessage(t *testing.T) {
	rg := newRig(t, Options{})
	rg.hub.Join(10, 1)
	rg.replay = func(int64) Replay {
		return func(ctx context.Context, send func(int64, string, []byte) error) error {
			rg.hub.Publish(10, 3, []byte("committed during replay"))
			for id := int64(1); id <= 2; id++ {
				if err := send(id, "", []byte(fmt.Sprint("old ", id, "\nsecond line"))); err != nil {
					return err
				}
			}
			return nil
		}
	}
	c := rg.connect(1, "")
	for want := int64(1); want <= 3; want++ {
		ev := c.next(t)
		if ev.IntID() != want {
			t.Fatalf("got id %s, want %d", ev.ID, want)
		}
		if want < 3 && ev.Data != fmt.Sprint("old ", want, "\nsecond line") {
			t.Fatalf("replayed data %q", ev.Data)
		}
	}
}

func TestHeartbeatsKeepIdleStreamsTalking(t *testing.T) {
	rg := newRig(t, Options{Heartbeat: 20 * time.Millisecond})
	req, _ := http.NewRequest("GET", rg.srv.URL, nil)
	req.Header.Set("X-User", "1")
	resp, err := rg.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	for range 3 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\n" {
			continue
		}
		if !strings.HasPrefix(line, ":") {
			t.Fatalf("idle stream sent %q, want a comment", line)
		}
	}
}

// Leaving ends delivery of the room at once: the user's streams are cut,
// which drops what was queued, and a new stream carries the other rooms only.
func TestLeaveStopsDelivery(t *testing.T) {
	rg := newRig(t, Options{})
	rg.hub.Join(10, 1)
	rg.hub.Join(20, 1)
	rg.hub.Join(10, 2)
	c, bystander := rg.connect(1, ""), rg.connect(2, "")
	rg.waitConns(2)
	rg.hub.Leave(10, 1)
	if !c.bg.Ended(5 * time.Second) {
		t.Fatal("the leaver's stream must be cut")
	}
	rg.waitConns(1) // the bystander keeps theirs
	again := rg.connect(1, "")
	rg.waitConns(2)
	rg.hub.Publish(10, 1, []byte("after leaving"))
	rg.hub.Publish(20, 2, []byte("still here"))
	if ev := again.next(t); ev.ID != "2" {
		t.Fatalf("got %+v after leaving", ev)
	}
	if ev := bystander.next(t); ev.ID != "1" {
		t.Fatalf("bystander got %+v", ev)
	}
}

func TestLeaveStopsAReplayInProgress(t *testing.T) {
	rg := newRig(t, Options{})
	rg.hub.Join(10, 1)
	halfway, resume := make(chan struct{}), make(chan struct{})
	sendErr := make(chan error, 1)
	rg.replay = func(int64) Replay {
		return func(ctx context.Context, send func(int64, string, []byte) error) error {
			if err := send(1, "", []byte("replayed before leaving")); err != nil {
				return err
			}
			close(halfway)
			<-resume
			err := send(2, "", []byte("must not go out"))
			sendErr <- err
			return err
		}
	}
	c := rg.connect(1, "")
	<-halfway
	rg.hub.Leave(10, 1)
	close(resume)
	if err := <-sendErr; err == nil {
		t.Fatal("a replay must stop when its user leaves")
	}
	for {
		ev, err := c.bg.Next(5 * time.Second)
		if err == sseclient.ErrTimeout {
			t.Fatal("stream not cut")
		}
		if err != nil {
			return // cut, and event 2 never came
		}
		if ev.ID == "2" {
			t.Fatal("an event replayed after leaving reached the client")
		}
	}
}

// A reader that stops reading is cut off; everyone else keeps receiving.
func TestStalledReaderIsCutAndOthersKeepGoing(t *testing.T) {
	// The stalled reader is cut when its queue fills, long before any write
	// times out; the timeout is generous so that the healthy reader is
	// never cut for a slow moment of a busy machine.
	rg := newRig(t, Options{QueueSize: 4, WriteTimeout: 10 * time.Second})
	rg.hub.Join(10, 1)
	rg.hub.Join(10, 2)

	stalled, err := net.Dial("tcp", rg.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	stalled.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(stalled, "GET /events HTTP/1.1\r\nHost: x\r\nX-User: 1\r\n\r\n")
	healthy := rg.connect(2, "")
	rg.waitConns(2)

	// 12.8 MB: far more than the stalled socket's buffers and queue hold.
	big := []byte(strings.Repeat("x", 32<<10))
	for id := int64(1); id <= 400; id++ {
		rg.hub.Publish(10, id, big)
		if ev := healthy.next(t); ev.IntID() != id {
			t.Fatalf("healthy reader got %s, want %d", ev.ID, id)
		}
	}
	rg.waitConns(1) // the stalled one is gone, the healthy one stays
}

func TestCloseEndsStreamsCleanly(t *testing.T) {
	h := New(Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uid, _ := strconv.ParseInt(r.Header.Get("X-User"), 10, 64)
		h.Serve(w, r, uid, "", nil, nil)
	}))
	defer srv.Close()
	var bodies []*http.Response
	for uid := range 20 {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("X-User", strconv.Itoa(uid%7))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, resp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	for _, resp := range bodies {
		if _, err := sseclient.NewReader(resp.Body).Next(); err == nil {
			t.Fatal("stream still open after Close")
		}
		resp.Body.Close()
	}
	if u, c := h.Stats(); u != 0 || c != 0 {
		t.Fatalf("after close: %d users, %d conns", u, c)
	}
	// New connections are refused, not hung.
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("X-User", "1")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("connect after close: %s", resp.Status)
	}
}

func TestDisconnectsReleaseEverything(t *testing.T) {
	rg := newRig(t, Options{})
	var clients []*client
	for i := range 30 { // 5 users in 3 browsers each, 2 tabs per browser
		clients = append(clients, rg.connect(int64(i%5), fmt.Sprintf("?session=%d", i%15)))
	}
	rg.waitConns(30)
	for _, c := range clients {
		c.resp.Body.Close()
	}
	waitFor(t, "all users released", func() bool { u, c := rg.hub.Stats(); return u == 0 && c == 0 })
}

// Streams are capped per browser (sign-in): one too many gets a refusal
// that says what to do, and other browsers of the same user are not held
// back by it.
func TestTooManyTabsGetAClearRefusal(t *testing.T) {
	rg := newRig(t, Options{MaxConnsPerSession: 3})
	var tabs []*client
	for range 3 {
		tabs = append(tabs, rg.connect(1, "?session=laptop"))
	}
	rg.waitConns(3)
	extra := rg.connect(1, "?session=laptop")
	ev := extra.next(t)
	if ev.Name != ClosedEvent || !strings.Contains(ev.Data, "3 other tabs of this browser") || !strings.Contains(ev.Data, "Close a tab") || ev.ID != "0" {
		t.Fatalf("refusal = %+v", ev)
	}
	if !extra.bg.Ended(time.Second) {
		t.Fatal("a refused stream must end")
	}
	rg.connect(1, "?session=phone") // the cap is per browser
	rg.connect(2, "?session=other") // and per user
	rg.waitConns(5)
	tabs[0].resp.Body.Close()
	rg.waitConns(4)
	rg.connect(1, "?session=laptop") // a freed slot can be used again
	rg.waitConns(5)
}

// Browsers (sign-ins) are capped per user; a browser already streaming may
// still add a tab within its own cap.
func TestTooManyBrowsersGetAClearRefusal(t *testing.T) {
	rg := newRig(t, Options{MaxSessionsPerUser: 2})
	rg.connect(1, "?session=a")
	rg.connect(1, "?session=b")
	rg.waitConns(2)
	third := rg.connect(1, "?session=c")
	if ev := third.next(t); ev.Name != ClosedEvent || !strings.Contains(ev.Data, "2 other browsers or devices") {
		t.Fatalf("refusal = %+v", ev)
	}
	rg.connect(1, "?session=a")
	rg.waitConns(3)
}

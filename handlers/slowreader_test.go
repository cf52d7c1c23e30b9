package handlers

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/internal/sseclient"
)

// smallSendBuffers gives every accepted connection a small kernel send
// buffer, so a reader that stops reading stalls the server within a few
// events instead of after megabytes.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

var sentAt = regexp.MustCompile(`sent=(\d+) n=(\d+)`)

// One reader among fifty stops reading. It must be cut off, the other 49
// must keep getting every message in order, and the stalled one must later
// resume without a gap. Latencies are logged, not asserted: timing belongs
// in benchmarks.
func TestOneStalledReaderAmongFifty(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: fifty streams")
	}
	a := newAppWith(t, hub.Options{WriteTimeout: time.Second},
		func(l net.Listener) net.Listener { return smallSendBuffers{l} },
		func(d *Deps) { d.ReplayLimit = 100000 })
	owner := a.signup("owner")
	room := owner.createRoom("busy")
	users := []*browser{owner}
	for i := 1; i < 50; i++ {
		u := a.signup(fmt.Sprintf("user%02d", i))
		u.post(fmt.Sprintf("/rooms/%d/join", room), nil, nil)
		users = append(users, u)
	}
	var healthy []*stream
	for _, u := range users[:49] {
		healthy = append(healthy, u.open("", nil))
	}
	stalled := openStalled(t, a, users[49])
	a.waitConns(50)

	post := func(n, size int) {
		body := fmt.Sprintf("sent=%d n=%d %s", time.Now().UnixNano(), n, strings.Repeat("x", size))
		if res := owner.post(fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {body}}, htmx); res.status != 200 {
			t.Fatalf("post %d: %d", n, res.status)
		}
	}
	const calm = 100
	for n := range calm { // same size as during the stall, for a fair comparison
		post(n, 1000)
	}
	n := calm
	cutAt := time.Time{}
	stallStart := time.Now()
	for ; n < 5000; n++ {
		post(n, 1000)
		if _, conns := a.hub.Stats(); conns == 49 {
			cutAt = time.Now()
			break
		}
	}
	if cutAt.IsZero() {
		t.Fatal("the stalled reader was never cut off")
	}
	for end := n + 20; n < end; n++ {
		post(n, 100)
	}

	want := textMessageIDs(t, a, room)
	var calmLat, stallLat []time.Duration
	for i, s := range healthy {
		got := readIDs(t, s.bg, want[len(want)-1], func(ev sseclient.Event) {
			m := sentAt.FindStringSubmatch(ev.Data)
			if m == nil {
				return
			}
			ns, _ := strconv.ParseInt(m[1], 10, 64)
			k, _ := strconv.Atoi(m[2])
			d := ev.At.Sub(time.Unix(0, ns))
			if k < calm {
				calmLat = append(calmLat, d)
			} else {
				stallLat = append(stallLat, d)
			}
		})
		if !slices.Equal(got, want) {
			t.Fatalf("healthy reader %d got %d messages, want %d, in order", i, len(got), len(want))
		}
	}

	// The stalled reader now reads what reached it before the cut, then
	// resumes from its last id: together, every message, none missing.
	seen, last := stalled.drain(t)
	again := users[49].open("", http.Header{"Last-Event-ID": {last}})
	rest := readIDs(t, again.bg, want[len(want)-1], nil)
	union := dedupe(append(seen, rest...))
	if !slices.Equal(union, want) {
		t.Fatalf("stalled reader: %d before the cut + %d after resuming = %d distinct, want %d without gaps",
			len(seen), len(rest), len(union), len(want))
	}
	t.Logf("stalled reader cut after %d posts (%v); it had %d messages, resumed from id %s and got %d more",
		n-calm-20, cutAt.Sub(stallStart).Round(time.Millisecond), len(seen), last, len(rest))
	t.Logf("49 healthy readers, POST→delivery: before the stall p50 %v p99 %v; during it p50 %v p99 %v",
		pct(calmLat, 50), pct(calmLat, 99), pct(stallLat, 50), pct(stallLat, 99))
}

func textMessageIDs(t *testing.T, a *app, room int64) []int64 {
	t.Helper()
	msgs, _, err := a.store.History(t.Context(), room, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, m := range msgs {
		if m.Kind == chat.KindText {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// readIDs reads posted-message events until id last, checking that their
// first appearances come in increasing order; it returns those ids.
func readIDs(t *testing.T, bg *sseclient.Background, last int64, each func(sseclient.Event)) []int64 {
	t.Helper()
	var ids []int64
	seen := map[int64]bool{}
	for {
		ev, err := bg.Next(10 * time.Second)
		if err != nil {
			t.Fatalf("after %d messages: %v", len(ids), err)
		}
		id := ev.IntID()
		if !sentAt.MatchString(ev.Data) || seen[id] {
			continue
		}
		if len(ids) > 0 && id < ids[len(ids)-1] {
			t.Fatalf("id %d arrived after %d", id, ids[len(ids)-1])
		}
		seen[id] = true
		ids = append(ids, id)
		if each != nil {
			each(ev)
		}
		if id == last {
			return ids
		}
	}
}

func dedupe(ids []int64) []int64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)*p/100].Round(10 * time.Microsecond)
}

// stalledStream is a raw connection that sends the stream request and then
// reads nothing until told to.
type stalledStream struct {
	conn net.Conn
	req  *http.Request
}

func openStalled(t *testing.T, a *app, b *browser) *stalledStream {
	t.Helper()
	a.settle() // see open
	u, _ := url.Parse(a.srv.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	t.Cleanup(func() { conn.Close() })
	req, _ := http.NewRequest("GET", a.srv.URL+"/events", nil)
	for _, c := range b.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	return &stalledStream{conn: conn, req: req}
}

// drain reads what the server managed to send before cutting the stream.
func (s *stalledStream) drain(t *testing.T) (ids []int64, lastID string) {
	t.Helper()
	s.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(s.conn), s.req)
	if err != nil {
		t.Fatal(err)
	}
	r := sseclient.NewReader(resp.Body)
	for {
		ev, err := r.Next()
		if err != nil {
			return ids, r.LastEventID()
		}
		if sentAt.MatchString(ev.Data) {
			ids = append(ids, ev.IntID())
		}
	}
}

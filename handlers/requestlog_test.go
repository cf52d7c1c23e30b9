package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/internal/poll"
)

// jsonLog is a logger's output, kept for checks: one JSON object a line.
type jsonLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *jsonLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *jsonLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// requests returns the request lines logged so far; every line must parse.
func (l *jsonLog) requests(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		if rec["msg"] == "request" {
			out = append(out, rec)
		}
	}
	return out
}

// find returns the one request line of route with status, or fails.
func (l *jsonLog) find(t *testing.T, route string, status int) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, rec := range l.requests(t) {
		if rec["route"] == route && rec["status"] == float64(status) {
			found = append(found, rec)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one request line for %s with %d, have %d in:\n%s", route, status, len(found), l.String())
	}
	return found[0]
}

func newLoggedApp(t *testing.T) (*app, *jsonLog) {
	t.Helper()
	log := &jsonLog{}
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) {
		d.Logger = slog.New(slog.NewJSONHandler(log, nil))
	})
	return a, log
}

var hexID = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestEveryRequestLogsOneLineWithItsRoute(t *testing.T) {
	a, log := newLoggedApp(t)
	alice := a.signup("alice")
	room := alice.createRoom("general")
	// Uncompressed, so that the body read is what was sent.
	page := alice.get(fmt.Sprintf("/rooms/%d", room), http.Header{"Accept-Encoding": {"identity"}})
	stranger := a.browser().get("/rooms", nil)
	missing := a.browser().get("/no/such/page?secret=x", nil)

	rec := log.find(t, "GET /rooms/{room}", http.StatusOK)
	if !hexID.MatchString(rec["request_id"].(string)) || rec["method"] != "GET" || rec["user"] != float64(alice.user().ID) ||
		rec["bytes"] != float64(len(page.body)) || rec["level"] != "INFO" {
		t.Errorf("room page: %v", rec)
	}
	if d, ok := rec["duration_ms"].(float64); !ok || d < 0 {
		t.Errorf("duration_ms: %v", rec["duration_ms"])
	}
	if rec := log.find(t, "POST /signup", http.StatusSeeOther); rec["user"] != float64(alice.user().ID) {
		t.Errorf("signing up names the new account: %v", rec)
	}
	if rec := log.find(t, "GET /rooms", stranger.status); rec["user"] != nil {
		t.Errorf("a stranger has no user id: %v", rec)
	}
	log.find(t, "/", missing.status)
	if ids := map[any]bool{}; true {
		for _, rec := range log.requests(t) {
			if ids[rec["request_id"]] {
				t.Errorf("request id %v used twice", rec["request_id"])
			}
			ids[rec["request_id"]] = true
		}
	}
	if strings.Contains(log.String(), "secret") || strings.Contains(log.String(), "/no/such") {
		t.Errorf("a path or query was logged:\n%s", log)
	}
}

// A request refused before any mux saw it (a cross-origin post) still
// logs the route it was for.
func TestRefusedRequestLogsItsRoute(t *testing.T) {
	a, log := newLoggedApp(t)
	alice := a.signup("alice")
	room := alice.createRoom("general")
	res := alice.post(fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {"hi"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if res.status != http.StatusForbidden {
		t.Fatalf("cross-origin post: %d", res.status)
	}
	log.find(t, "POST /rooms/{room}/messages", http.StatusForbidden)
}

// A proxy's request id is used and sent back; anything that could forge
// a log line or carry data is replaced by the server's own.
func TestRequestIDFromTheProxy(t *testing.T) {
	a, log := newLoggedApp(t)
	b := a.browser()
	for _, tc := range []struct{ sent, want string }{
		{"8f1c6e2a-3b4d-4e5f-9a0b-1c2d3e4f5a6b", "8f1c6e2a-3b4d-4e5f-9a0b-1c2d3e4f5a6b"},
		{"abc def", ""},
		{`x" level=ERROR`, ""},
		{strings.Repeat("a", 65), ""},
	} {
		res := b.get("/login", http.Header{"X-Request-Id": {tc.sent}})
		if got := res.header.Get("X-Request-Id"); got != tc.want {
			t.Errorf("sent %q: answered %q, want %q", tc.sent, got, tc.want)
		}
		recs := log.requests(t)
		id := recs[len(recs)-1]["request_id"].(string)
		if tc.want != "" && id != tc.want || tc.want == "" && !hexID.MatchString(id) {
			t.Errorf("sent %q: logged %q", tc.sent, id)
		}
	}
	if res := b.get("/login", nil); res.header.Get("X-Request-Id") != "" {
		t.Error("an id the server made is not worth a header on every response")
	}
}

// A stream logs once, when it ends, with what it sent: the hub takes the
// connection over from net/http, so the handler returned long before.
func TestStreamLogsWhenItEnds(t *testing.T) {
	a, log := newLoggedApp(t)
	alice := a.signup("alice")
	room := alice.createRoom("general")
	s := alice.open("", nil)
	alice.post(fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {"hello"}}, nil)
	s.next()
	for _, rec := range log.requests(t) {
		if rec["route"] == "GET /events" {
			t.Fatalf("an open stream logged: %v", rec)
		}
	}
	s.close()
	var rec map[string]any
	poll.Until(t, "the stream's request line", func() bool {
		for _, r := range log.requests(t) {
			if r["route"] == "GET /events" {
				rec = r
				return true
			}
		}
		return false
	})
	if rec["status"] != float64(http.StatusOK) || rec["user"] != float64(alice.user().ID) || rec["bytes"].(float64) < float64(len("hello")) {
		t.Errorf("stream: %v", rec)
	}
}

// A WebSocket logs its 101 when it closes, with the bytes it sent.
func TestSocketLogsWhenItEnds(t *testing.T) {
	a, log := newLoggedApp(t)
	alice := a.signup("alice")
	room := alice.createRoom("general")
	ws, _, err := alice.dialSocket("", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The 101 comes before the hub has the socket: a post sent at once
	// could go before it and never reach it.
	a.waitConns(1)
	alice.post(fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {"hello"}}, nil)
	ws.next()
	ws.c.CloseNow()
	var rec map[string]any
	poll.Until(t, "the socket's request line", func() bool {
		for _, r := range log.requests(t) {
			if r["route"] == "GET /ws" {
				rec = r
				return true
			}
		}
		return false
	})
	if rec["status"] != float64(http.StatusSwitchingProtocols) || rec["user"] != float64(alice.user().ID) || rec["bytes"].(float64) < float64(len("hello")) {
		t.Errorf("socket: %v", rec)
	}
}

func TestStatusLineCode(t *testing.T) {
	for in, want := range map[string]int{"HTTP/1.1 200 OK\r\n": 200, "HTTP/1.1 503 x": 503, "HTTP/1.1 20": 0, "data: x\n": 0, "HTTP/1.1 2x0 OK": 0} {
		if got := statusLineCode([]byte(in)); got != want {
			t.Errorf("%q: %d, want %d", in, got, want)
		}
	}
}

// BenchmarkRequestLog is what the request log adds to every request: the
// id, the counting writer, the context value and a JSON line.
func BenchmarkRequestLog(b *testing.B) {
	h := &Handler{log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rooms/{room}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) })
	for _, c := range []struct {
		name string
		next http.Handler
	}{{"bare", mux}, {"logged", h.logRequests(func(*http.Request) string { return "" }, recordRoute(mux, ""))}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/rooms/7", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				c.next.ServeHTTP(w, req)
			}
		})
	}
}

// A hijacked stream's connection, wrapped to count what it carries, still
// shows the hub its socket (so one epoll set watches it instead of a
// goroutine); a connection with no socket says so.
func TestLoggedConnShowsItsSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var c net.Conn = &loggedConn{Conn: client}
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd uintptr
	if err := rc.Control(func(s uintptr) { fd = s }); err != nil || fd == 0 {
		t.Fatalf("socket: %d %v", fd, err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := (&loggedConn{Conn: a}).SyscallConn(); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("a pipe's SyscallConn: %v, want ErrUnsupported", err)
	}
}

// deliveredConn delivers every write to the peer at once, then holds the
// writer until release closes: the moment a peer can read and hang up
// before the writing goroutine runs again.
type deliveredConn struct {
	net.Conn
	delivered chan struct{}
	release   chan struct{}
}

func (c *deliveredConn) Write(p []byte) (int, error) {
	close(c.delivered)
	<-c.release
	return len(p), nil
}

func (c *deliveredConn) Close() error { return nil }

// A write the peer has read counts even when the close comes before the
// writer returns (the line said 0 bytes now and then): the line waits for
// the write.
func TestHijackedLineWaitsForTheWriteInFlight(t *testing.T) {
	log := &jsonLog{}
	w := &loggedWriter{h: &Handler{log: slog.New(slog.NewJSONHandler(log, nil))}, info: &requestInfo{route: "GET /ws"}, method: "GET"}
	w.pending.Store(1)
	c := &loggedConn{Conn: &deliveredConn{delivered: make(chan struct{}), release: make(chan struct{})}, w: w}
	dc := c.Conn.(*deliveredConn)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\n\r\n"))
	}()
	<-dc.delivered
	c.Close()
	if recs := log.requests(t); len(recs) != 0 {
		t.Fatalf("logged while a write was in flight: %v", recs)
	}
	close(dc.release)
	<-done
	rec := log.find(t, "GET /ws", http.StatusSwitchingProtocols)
	if rec["bytes"] != float64(len("HTTP/1.1 101 Switching Protocols\r\n\r\n")) {
		t.Errorf("logged %v bytes for a delivered response line", rec["bytes"])
	}
}

// shortConn takes only the first n bytes of a write.
type shortConn struct {
	net.Conn
	n int
}

func (c shortConn) Write(p []byte) (int, error) { return min(c.n, len(p)), io.ErrShortWrite }
func (c shortConn) Close() error                { return nil }

// What a failed write did not send is not counted, and a write after the
// line was logged logs no second one.
func TestHijackedShortWriteCountsWhatWentOut(t *testing.T) {
	log := &jsonLog{}
	w := &loggedWriter{h: &Handler{log: slog.New(slog.NewJSONHandler(log, nil))}, info: &requestInfo{route: "GET /ws"}, method: "GET"}
	w.pending.Store(1)
	c := &loggedConn{Conn: shortConn{n: 3}, w: w}
	c.Write([]byte("0123456789"))
	c.Close()
	c.Write([]byte("after"))
	if rec := log.find(t, "GET /ws", http.StatusOK); rec["bytes"] != float64(3) {
		t.Errorf("logged %v bytes, 3 went out", rec["bytes"])
	}
}

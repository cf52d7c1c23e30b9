package connlimit

import (
	"bufio"
	"context"
	"github.com/rtmessenger/rtmessenger/internal/poll"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const refusal = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"

// serve runs an HTTP server behind the caps; a request with X-Signed-In
// trusts its connection, as a signed-in request does in the app.
func serve(t *testing.T, opt Options) (*Listener, string) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opt.Refusal = []byte(refusal)
	l := Wrap(inner, opt)
	srv := &http.Server{
		ConnContext: l.ConnContext,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Signed-In") != "" {
				Trust(r.Context())
			}
			io.WriteString(w, "ok")
		}),
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l, inner.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// request sends one request on c and returns the status line.
func request(t *testing.T, c net.Conn, signedIn bool) string {
	t.Helper()
	req := "GET / HTTP/1.1\r\nHost: x\r\n"
	if signedIn {
		req += "X-Signed-In: 1\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Status
}

// refused reports whether the server answered c with the refusal and
// closed it, without any request being sent.
func refused(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return strings.HasPrefix(string(b), "HTTP/1.1 503")
}

// waitAnonymous waits until the listener counts n connections.
func waitAnonymous(t *testing.T, l *Listener, n int) {
	t.Helper()
	poll.Until(t, strconv.Itoa(n)+" anonymous connections", func() bool { return l.Anonymous() == n })
}

func TestAnonymousConnectionsAreCappedPerAddress(t *testing.T) {
	refusedFrom := make(chan string, 10)
	l, addr := serve(t, Options{PerAddress: 3, OnRefuse: func(a string) { refusedFrom <- a }})
	idle := []net.Conn{dial(t, addr), dial(t, addr), dial(t, addr)} // say nothing, as a slow client
	waitAnonymous(t, l, 3)
	if !refused(t, dial(t, addr)) {
		t.Fatal("a fourth anonymous connection was accepted")
	}
	if from := <-refusedFrom; from != "127.0.0.1" || len(refusedFrom) != 0 {
		t.Fatalf("refusal reported for %q, %d more", from, len(refusedFrom))
	}

	// A signed-in request frees its connection's place: it no longer counts.
	if got := request(t, idle[0], true); got != "200 OK" {
		t.Fatalf("signed-in request: %s", got)
	}
	waitAnonymous(t, l, 2)
	fourth := dial(t, addr)
	if got := request(t, fourth, false); got != "200 OK" {
		t.Fatalf("after one was trusted: %s", got)
	}
	// Closing frees a place too.
	idle[1].Close()
	waitAnonymous(t, l, 2)
	if got := request(t, dial(t, addr), false); got != "200 OK" {
		t.Fatalf("after one closed: %s", got)
	}
}

func TestAnonymousConnectionsAreCappedInAll(t *testing.T) {
	l, addr := serve(t, Options{Total: 2})
	dial(t, addr)
	dial(t, addr)
	waitAnonymous(t, l, 2)
	if !refused(t, dial(t, addr)) {
		t.Fatal("a third anonymous connection was accepted")
	}
}

func TestTrustOutsideAListenerDoesNothing(t *testing.T) {
	Trust(context.Background()) // must not panic
}

// The hub watches hijacked streams' sockets through SyscallConn; a counted
// connection must not hide its socket.
func TestAcceptedConnectionsShowTheirSocket(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Wrap(inner, Options{Refusal: []byte(refusal)})
	defer l.Close()
	dial(t, inner.Addr().String())
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc, ok := c.(syscall.Conn)
	if !ok {
		t.Fatalf("%T hides its socket", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd uintptr
	if err := rc.Control(func(s uintptr) { fd = s }); err != nil || fd == 0 {
		t.Fatalf("socket: %d %v", fd, err)
	}
}

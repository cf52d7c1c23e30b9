package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Connections on which nobody has signed in are capped per client address
// (-anon-conns-per-ip); one over the cap gets 503 at once. A signed-in
// request frees its connection's place, so people who are signed in are
// never turned away because strangers hold connections open.
func TestStrangersConnectionsAreCapped(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "caps.db"), "-anon-conns-per-ip", "3")
	p := s.signup("anna") // its own connections are signed in: they do not count
	p.c.CloseIdleConnections()
	addr := strings.TrimPrefix(s.url, "http://")
	var idle []net.Conn
	for range 3 {
		idle = append(idle, dialIdle(t, addr))
	}
	// The server counts a connection when it accepts it, which may lag the
	// dial: retry the fourth until it is refused, within a deadline.
	refused := false
	for deadline := time.Now().Add(30 * time.Second); !refused && time.Now().Before(deadline); {
		refused = strings.HasPrefix(readAll(t, dialIdle(t, addr)), "HTTP/1.1 503")
	}
	if !refused {
		t.Fatal("a fourth idle connection from one address was not refused")
	}

	u, _ := url.Parse(s.url)
	var cookie string
	for _, c := range p.c.Jar.Cookies(u) {
		cookie += c.Name + "=" + c.Value
	}
	io.WriteString(idle[0], "GET /rooms HTTP/1.1\r\nHost: "+addr+"\r\nCookie: "+cookie+"\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(idle[0]), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("signed-in request on an idle connection: %v %v", resp, err)
	}
	resp.Body.Close()
	res, err := http.Get(s.url + "/login") // a stranger's, on a new connection
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("after a connection signed in, a new one: %v %v", res, err)
	}
	res.Body.Close()
}

func dialIdle(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readAll reads what the server sends before it closes c, or nothing if it
// keeps c open for a second.
func readAll(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Second))
	b, _ := io.ReadAll(c)
	c.Close()
	return string(b)
}

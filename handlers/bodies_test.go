package handlers

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/hub"
)

// slowClient opens a raw connection to the app and sends a request's head
// and the first part of its body, then nothing more: a client trickling a
// body, or one that declared more than it will ever send.
func slowClient(t *testing.T, a *app, head, bodyStart string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(a.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head+"\r\n"+bodyStart); err != nil {
		t.Fatal(err)
	}
	// A deadline for a broken server only, never reached by a working one.
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	return c, bufio.NewReader(c)
}

// answer reads the response and checks that the server closes the
// connection after it (the rest of the body is never waited for).
func answer(t *testing.T, br *bufio.Reader) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !resp.Close {
		t.Errorf("the connection is kept open after %s with an unread body", resp.Status)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("the server did not close the connection: %v", err)
	}
	return resp, string(body)
}

// A request whose body never arrives cannot hold its connection: a reply
// that needs no body comes at once, one that needs it comes when the body's
// deadline passes, and a body larger than any route takes is refused
// before it is read. No log-in needed for any of it.
func TestSlowBodiesCannotHoldConnections(t *testing.T) {
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) { d.BodyGrace = 200 * time.Millisecond })
	a.signup("alice")

	_, br := slowClient(t, a, "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200000\r\n", "a")
	if resp, _ := answer(t, br); resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /nope: %s, want 404", resp.Status)
	}

	// 1,000 bytes get the grace plus 61 ms; the client sends 8 and stalls.
	_, br = slowClient(t, a, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n", "username")
	resp, body := answer(t, br)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "arrived too slowly") {
		t.Errorf("POST /login trickled: %s %q", resp.Status, body)
	}

	_, br = slowClient(t, a, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000000\r\n", "")
	if resp, _ := answer(t, br); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 100 MB body: %s, want 413", resp.Status)
	}
}

// A body that arrives in time is read as always, and the connection stays
// open for the next request.
func TestBodiesInTimeKeepTheConnection(t *testing.T) {
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) { d.BodyGrace = 200 * time.Millisecond })
	a.signup("alice")
	form := "username=alice&password=password-alice"
	c, br := slowClient(t, a, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "+strconv.Itoa(len(form))+"\r\n", form)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Close {
		t.Fatalf("login: %s (close %v)", resp.Status, resp.Close)
	}
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err = http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("second request on the same connection: %v %v", resp, err)
	}
	resp.Body.Close()
}

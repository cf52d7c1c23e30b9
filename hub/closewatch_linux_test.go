package hub

import (
	"net"
	"sync/atomic"
	"testing"
)

// listen is a loopback listener, closed when the test ends.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// tcpPair is a connected pair of TCP connections: the server's end, which
// is watched, and the client's, which goes away.
func tcpPair(t *testing.T, ln net.Listener) (server, client net.Conn) {
	t.Helper()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if server, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

func TestCloseWatchTellsEachStreamItsClientWent(t *testing.T) {
	w := newCloseWatch()
	if w == nil {
		t.Fatal("no epoll watcher on Linux")
	}
	defer w.stop()
	ln := listen(t)

	const n = 200
	var told [n]atomic.Int32
	servers, clients := make([]net.Conn, n), make([]net.Conn, n)
	forgets := make([]func(), n)
	for i := range n {
		server, client := tcpPair(t, ln)
		servers[i], clients[i] = server, client
		forget, ok := w.watch(server, func() { told[i].Add(1) })
		if !ok {
			t.Fatalf("conn %d not watched", i)
		}
		forgets[i] = forget
	}
	// The first half hang up; the next quarter send a byte (a client has
	// nothing to say on a stream: anything it sends ends it too); the
	// last quarter end on the server's side first, as a stream that ends
	// does (closed, then forgotten), then their clients hang up.
	for i := range n / 2 {
		clients[i].Close()
	}
	for i := n / 2; i < 3*n/4; i++ {
		clients[i].Write([]byte("x"))
	}
	for i := 3 * n / 4; i < n; i++ {
		servers[i].Close()
		forgets[i]()
		clients[i].Close()
	}
	waitFor(t, "every client that went to be told", func() bool {
		for i := range 3 * n / 4 {
			if told[i].Load() == 0 {
				return false
			}
		}
		return true
	})
	// A sentinel registered after the forgotten ones hung up: once it is
	// told, the set has reported the hang-ups before it too.
	server, client := tcpPair(t, ln)
	var sentinel atomic.Bool
	if _, ok := w.watch(server, func() { sentinel.Store(true) }); !ok {
		t.Fatal("sentinel not watched")
	}
	client.Close()
	waitFor(t, "the sentinel to be told", sentinel.Load)
	for i := range n {
		want := int32(1)
		if i >= 3*n/4 {
			want = 0
		}
		if got := told[i].Load(); got != want {
			t.Fatalf("conn %d told %d times, want %d", i, got, want)
		}
	}
	w.mu.Lock()
	left := len(w.cancels)
	w.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d connections still held after all were told or forgotten", left)
	}
}

func TestAStoppedCloseWatchWatchesNothing(t *testing.T) {
	w := newCloseWatch()
	ln := listen(t)
	server, _ := tcpPair(t, ln)
	forget, ok := w.watch(server, func() {})
	if !ok {
		t.Fatal("not watched")
	}
	w.stop()
	w.stop() // twice is fine
	forget() // after stop is fine
	if _, ok := w.watch(server, func() {}); ok {
		t.Fatal("a stopped watcher took a connection: it would never be told")
	}
}

// An HTTP/1.1 stream is watched by the set, not by a goroutine of its own,
// and leaves it when its client goes.
func TestAHijackedStreamIsWatchedByTheSet(t *testing.T) {
	rg := newRig(t, Options{})
	watched := func() int {
		rg.hub.closes.mu.Lock()
		defer rg.hub.closes.mu.Unlock()
		return len(rg.hub.closes.cancels)
	}
	c := rg.connect(1, "")
	rg.waitConns(1)
	if n := watched(); n != 1 {
		t.Fatalf("%d connections watched, want 1", n)
	}
	c.resp.Body.Close()
	rg.waitConns(0)
	waitFor(t, "the stream to leave the set", func() bool { return watched() == 0 })
}

// A watcher whose set fails ends the streams it watched: nothing would
// tell them of a client that only half-closed.
func TestAFailedCloseWatchEndsItsStreams(t *testing.T) {
	w := newCloseWatch()
	defer w.stop()
	ln := listen(t)
	var told atomic.Int32
	for range 3 {
		server, _ := tcpPair(t, ln)
		if _, ok := w.watch(server, func() { told.Add(1) }); !ok {
			t.Fatal("not watched")
		}
	}
	w.giveUp()
	if n := told.Load(); n != 3 {
		t.Fatalf("%d of 3 streams ended", n)
	}
	server, _ := tcpPair(t, ln)
	if _, ok := w.watch(server, func() {}); ok {
		t.Fatal("a failed watcher took a connection")
	}
}

package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/internal/poll"
)

// The posters' connections are open before a measured phase; a second
// call opens none while the pool keeps them, and opens them again once
// the server has closed them.
func TestPosterConnectOpensThePoolAhead(t *testing.T) {
	const n = 8
	var opened atomic.Int64
	// Health checks are answered n at a time, so a round has n in flight
	// at once and needs n connections.
	together := &barrier{n: n}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		together.wait(5 * time.Second)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	p := newPoster(srv.URL)
	open := p.open[hostOf(srv.URL)]
	ctx := context.Background()
	p.connect(ctx, n)
	if got := open.Load(); got < n {
		t.Fatalf("after connect the pool holds %d connections, want %d", got, n)
	}
	first := opened.Load()
	if first < n {
		t.Fatalf("the server saw %d connections, want at least %d", first, n)
	}
	p.connect(ctx, n)
	if again := opened.Load(); again != first {
		t.Errorf("a second connect opened %d more connections; the pool had them", again-first)
	}

	srv.CloseClientConnections()
	poll.Within(t, 10*time.Second, "the pool to notice its connections closed", func() bool { return open.Load() == 0 })
	p.connect(ctx, n)
	if got, reopened := open.Load(), opened.Load()-first; got < n || reopened < n {
		t.Errorf("after the server closed them, connect left %d open and opened %d, want %d", got, reopened, n)
	}
}

// barrier lets its callers go n at a time, or each after limit.
type barrier struct {
	mu      sync.Mutex
	n, seen int
	release chan struct{}
}

func (b *barrier) wait(limit time.Duration) {
	b.mu.Lock()
	if b.release == nil {
		b.release = make(chan struct{})
	}
	release := b.release
	if b.seen++; b.seen == b.n {
		close(release)
		b.release, b.seen = nil, 0
	}
	b.mu.Unlock()
	select {
	case <-release:
	case <-time.After(limit):
	}
}

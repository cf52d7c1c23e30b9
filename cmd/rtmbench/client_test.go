package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// The posters' connections are open before a measured phase, and a
// second call opens none: the pool keeps them.
func TestPosterConnectOpensThePoolAhead(t *testing.T) {
	const n = 8
	var opened atomic.Int64
	// Each health check waits (boundedly) for the others, so the first
	// round has n in flight at once and needs n connections.
	arrived := make(chan struct{}, n)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		deadline := time.After(5 * time.Second)
		for len(arrived) < n {
			select {
			case <-deadline:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	p := newPoster(srv.URL)
	ctx := context.Background()
	p.connect(ctx, n)
	if got := p.open.Load(); got < n {
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
}

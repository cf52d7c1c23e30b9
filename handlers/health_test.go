package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/internal/readonly"
	"github.com/rtmessenger/rtmessenger/store"
)

var _ storeHealth = (*store.Store)(nil) // the store reports on its writes, not just reads

// Health says what people feel: while the database cannot be written it
// answers 503 with the reason, and 200 again once it can. The file is made
// read-only for real (readonly.Database), before the server starts.
func TestHealthSaysWhyTheDatabaseCannotBeWritten(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "health.db")
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	restore := readonly.Database(t, path)
	clk := &clock{t: time.Now()}
	st, err = store.Open(ctx, path, store.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	hb := hub.New(hub.Options{})
	srv := httptest.NewServer(New(Deps{Store: st, Streams: hb, Sessions: st.Sessions(), Password: cheap}).Routes())
	t.Cleanup(func() {
		srv.Close()
		hb.Close(context.Background())
		st.Close()
	})
	health := func() (int, string) {
		t.Helper()
		res, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("health answered %s, want plain text", ct)
		}
		return res.StatusCode, string(body)
	}

	status, body := health()
	if status != http.StatusServiceUnavailable {
		t.Fatalf("health of a read-only database: %d %q; want 503", status, body)
	}
	mustContain(t, body, "database not writable: ", "attempt to write a readonly database", " (since ")

	restore()
	clk.add(time.Second) // past the store's answer from the failed write
	if status, body := health(); status != http.StatusOK || body != "ok\n" {
		t.Fatalf("health once the database is writable again: %d %q; want 200 ok", status, body)
	}
}

// fakeBus is a bus whose health the test sets.
type fakeBus struct{ err atomic.Pointer[error] }

func (b *fakeBus) Health() error {
	if p := b.err.Load(); p != nil {
		return *p
	}
	return nil
}

// With the cross-node bus down the node still serves: 200, saying it is
// degraded and why, so a load balancer keeps it; "ok" again once it is back.
func TestHealthReportsADegradedBus(t *testing.T) {
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "bus.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hb, bus := hub.New(hub.Options{}), &fakeBus{}
	srv := httptest.NewServer(New(Deps{Store: st, Streams: hb, Sessions: st.Sessions(), Password: cheap, Bus: bus}).Routes())
	t.Cleanup(func() {
		srv.Close()
		hb.Close(context.Background())
		st.Close()
	})
	health := func() (int, string) {
		t.Helper()
		res, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if status, body := health(); status != http.StatusOK || body != "ok\n" {
		t.Fatalf("with the bus up: %d %q", status, body)
	}
	down := errors.New("redis bus at 127.0.0.1:6379 unreachable for 3s: EOF")
	bus.err.Store(&down)
	status, body := health()
	if status != http.StatusOK {
		t.Fatalf("with the bus down: %d, want 200", status)
	}
	mustContain(t, body, "degraded: ", down.Error(), "posting works")
	bus.err.Store(nil)
	if status, body := health(); status != http.StatusOK || body != "ok\n" {
		t.Fatalf("with the bus back: %d %q", status, body)
	}
}

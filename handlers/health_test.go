package handlers

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
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

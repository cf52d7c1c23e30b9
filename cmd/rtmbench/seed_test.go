package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/handlers"
	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/internal/pgtest"
	"github.com/rtmessenger/rtmessenger/store"
)

// The accounts seed writes straight to the database are signed in for
// the server's own handlers, on either engine, and a rerun reuses them.
func TestSeededAccountsSignIn(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testSeed(t, filepath.Join(t.TempDir(), "bench.db")) })
	t.Run("postgres", func(t *testing.T) { testSeed(t, pgtest.URL(t)) })
}

func testSeed(t *testing.T, db string) {
	ctx := t.Context()
	first, err := seed(ctx, db, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Creating an existing account fails, so a rerun succeeds only by
	// reusing them.
	again, err := seed(ctx, db, 3)
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	st, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := serveStore(t, st)
	for i, a := range first {
		u, _, err := st.UserByName(ctx, a.name)
		if err != nil || u.Admin != (i == 0) {
			t.Fatalf("%s: %+v, %v; want only the first an admin", a.name, u, err)
		}
		for _, token := range []string{a.token, again[i].token} {
			if status, body := getRooms(t, srv, token); status != http.StatusOK || !strings.Contains(body, a.name) {
				t.Errorf("%s's session: status %d; want their rooms page", a.name, status)
			}
		}
	}
	if status, _ := getRooms(t, srv, "not-a-session"); status != http.StatusSeeOther {
		t.Fatalf("no session: status %d; want the way to log in", status)
	}
	resp, err := srv.Client().PostForm(srv.URL+"/login", url.Values{"username": {"bench2"}, "password": {benchPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/rooms" {
		t.Fatalf("log-in with the bench password: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
}

// serveStore serves the server's handlers on st.
func serveStore(t *testing.T, st *store.Store) *httptest.Server {
	hb := hub.New(hub.Options{})
	h := handlers.New(handlers.Deps{Store: st, Embeds: st, Streams: hb, Sessions: st.Sessions()})
	srv := httptest.NewServer(h.Routes())
	srv.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	t.Cleanup(func() {
		srv.Close()
		hb.Close(context.Background())
	})
	return srv
}

func getRooms(t *testing.T, srv *httptest.Server, token string) (int, string) {
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/rooms", nil)
	req.AddCookie(&http.Cookie{Name: "rtm_session", Value: token})
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b.String()
}

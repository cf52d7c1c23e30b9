package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/store"
)

// BenchmarkLogin compares a wrong password with an unknown username at the
// production argon2id cost: the times should match, so timing cannot tell
// whether a username exists.
func BenchmarkLogin(b *testing.B) {
	hb := hub.New(hub.Options{})
	st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	defer hb.Close(context.Background())
	h := New(Deps{Store: st, Streams: hb, Sessions: st.Sessions()})
	srv := httptest.NewServer(h.Routes())
	defer srv.Close()
	if _, err := st.CreateUser(context.Background(), "alice", h.passwords.hash("password-alice")); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, user string }{{"wrong-password", "alice"}, {"unknown-user", "nobody"}} {
		b.Run(c.name, func(b *testing.B) {
			form := url.Values{"username": {c.user}, "password": {"not-the-password"}}.Encode()
			for b.Loop() {
				resp, err := http.Post(srv.URL+"/login", "application/x-www-form-urlencoded", strings.NewReader(form))
				if err != nil || resp.StatusCode != http.StatusUnauthorized {
					b.Fatalf("%v %v", resp, err)
				}
				resp.Body.Close()
			}
		})
	}
}

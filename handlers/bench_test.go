package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
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

// discardFanout takes events and drops them.
type discardFanout struct{}

func (discardFanout) Publish(int64, int64, []byte)                    {}
func (discardFanout) PublishExcept(int64, int64, int64, []byte) int   { return 0 }
func (discardFanout) PublishTo(int64, int64, []byte) bool             { return false }
func (discardFanout) PublishSidebar(int64, int64, int64, []byte) bool { return false }
func (discardFanout) Join(int64, int64)                               {}
func (discardFanout) Leave(int64, int64)                              {}

// BenchmarkRelay compares publishing one-message commits on the caller's
// goroutine, as the store's writer once did, with queueing them for the
// relay's goroutine until it has published them all. writer-ns/op is what
// the caller (the writer) spends per commit.
func BenchmarkRelay(b *testing.B) {
	msgs := []chat.Message{{ID: 1, RoomID: 1, AuthorID: 1, Author: "alice", Body: "hello there, how are you?"}}
	b.Run("inline", func(b *testing.B) {
		rl := NewRelay(discardFanout{}, nil)
		defer rl.Close()
		for b.Loop() {
			rl.publishMessages(msgs)
		}
	})
	b.Run("queued", func(b *testing.B) {
		rl := NewRelay(discardFanout{}, nil)
		defer rl.Close()
		var writer time.Duration
		for b.Loop() {
			start := time.Now()
			rl.Committed(msgs)
			writer += time.Since(start)
			if rl.q.waiting.Load() >= 1024 { // as the writer's own queue bounds it
				if err := rl.Sync(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := rl.Sync(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(writer.Nanoseconds())/float64(b.N), "writer-ns/op")
	})
}

// BenchmarkAnswerGzipped is the compression of an htmx post's answer (the
// composer and the message, 1.3 KB, as the server sent it) for a browser,
// which always takes gzip.
func BenchmarkAnswerGzipped(b *testing.B) {
	body, err := os.ReadFile("testdata/post-answer.html")
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/rooms/1/messages", nil)
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	for b.Loop() {
		w := httptest.NewRecorder()
		writeHTML(w, r, http.StatusOK, body)
		if w.Header().Get("Content-Encoding") != "gzip" {
			b.Fatal("not gzipped")
		}
	}
	b.SetBytes(int64(len(body)))
}

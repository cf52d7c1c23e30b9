package main

import (
	"context"
	"github.com/rtmessenger/rtmessenger/internal/poll"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rtmessenger/rtmessenger/internal/redistest"
)

// With -bus the server runs as one node of several: it reports the bus in
// /healthz, still delivers to its own streams, and publishes each message
// to Redis once, rendered.
func TestServesWithARedisBus(t *testing.T) {
	addr, channel := redistest.Addr(t), redistest.Channel(t)
	rc := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2})
	defer rc.Close()
	sub := rc.Subscribe(t.Context(), channel)
	defer sub.Close()
	if _, err := sub.Receive(t.Context()); err != nil { // the subscription is live
		t.Fatal(err)
	}

	s := startServer(t, filepath.Join(t.TempDir(), "bus.db"), "-bus", "redis://"+addr+"/0?channel="+channel)
	waitHealth(t, s.url, "ok\n")
	a := s.signup("anna")
	room := a.createRoom("nodes")
	es := a.stream("")
	a.say(room, "hello, other nodes")
	if ev := es.next(); !strings.Contains(ev.Data, "hello, other nodes") {
		t.Fatalf("own stream got %+v", ev)
	}
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		msg, err := sub.ReceiveMessage(ctx)
		cancel()
		if err != nil {
			t.Fatalf("nothing on the bus: %v", err)
		}
		if strings.Contains(msg.Payload, "hello, other nodes") {
			break
		}
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if w := s.log.shutdownWarnings(); len(w) > 0 {
		t.Errorf("shutdown warned: %q", w)
	}
}

// waitHealth polls the /healthz of the server at base until its answer
// starts with want.
func waitHealth(t *testing.T, base, want string) {
	t.Helper()
	poll.Until(t, base+"/healthz to say "+want, func() bool {
		res, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return strings.HasPrefix(string(body), want)
	})
}

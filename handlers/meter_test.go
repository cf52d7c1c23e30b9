package handlers

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/internal/poll"
	"github.com/rtmessenger/rtmessenger/ratelimit"
)

// countingMeter is a Meter that counts what it hears, by kind and label.
type countingMeter struct {
	mu     sync.Mutex
	counts map[string]int
	took   []time.Duration
}

func (m *countingMeter) add(key string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts == nil {
		m.counts = map[string]int{}
	}
	m.counts[key] += n
}

func (m *countingMeter) get(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[key]
}

func (m *countingMeter) snapshot() (counts map[string]int, took []time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.counts), slices.Clone(m.took)
}

func (m *countingMeter) MessagePosted(took time.Duration) {
	m.add("posted", 1)
	m.mu.Lock()
	m.took = append(m.took, took)
	m.mu.Unlock()
}
func (m *countingMeter) MessageRefused(reason string) { m.add("refused "+reason, 1) }
func (m *countingMeter) CrossOriginRefused()          { m.add("cross-origin", 1) }
func (m *countingMeter) Replayed(n int)               { m.add("replays", 1); m.add("replayed", n) }
func (m *countingMeter) StreamReset(reason string)    { m.add("reset "+reason, 1) }

// Every way a message post ends is counted, by reason, and an accepted
// one with how long it took.
func TestMeterCountsPostsByOutcome(t *testing.T) {
	m := &countingMeter{}
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) {
		d.Meter = m
		d.Limits.Posts = ratelimit.New(0.001, 3) // three posts each, then refusals
	})
	alice, bob := a.signup("alice"), a.signup("bob")
	room := alice.createRoom("general")
	path := fmt.Sprintf("/rooms/%d/messages", room)
	for _, tc := range []struct {
		who    *browser
		body   string
		header http.Header
		want   string
	}{
		{alice, "hello", htmx, "posted"},
		{alice, strings.Repeat("x", chat.MaxMessageRunes+1), htmx, "refused invalid"},
		{alice, "   ", htmx, "refused invalid"},
		{bob, "not a member", htmx, "refused not_member"},
		{alice, "a fourth post", htmx, "refused rate_limited"},
		{alice, "forged", http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}, "cross-origin"},
	} {
		n := m.get(tc.want)
		tc.who.post(path, url.Values{"body": {tc.body}}, tc.header)
		if got := m.get(tc.want); got != n+1 {
			all, _ := m.snapshot()
			t.Errorf("post %.20q by %s: %q counted %d times, want %d (all: %v)", tc.body, tc.who.name, tc.want, got, n+1, all)
		}
	}
	res := alice.postRaw(path, "body="+strings.Repeat("x", maxFormBytes+1), htmx)
	all, took := m.snapshot()
	if res.status != http.StatusRequestEntityTooLarge || all["refused too_large"] != 1 {
		t.Errorf("an oversized body: %d, counted %v", res.status, all)
	}
	if len(took) != 1 || took[0] <= 0 {
		t.Errorf("took %v: want one accepted post with its duration", took)
	}
}

// Replays count the messages they send; resets count by reason.
func TestMeterCountsReplaysAndResets(t *testing.T) {
	m := &countingMeter{}
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) { d.Meter = m })
	alice := a.signup("alice")
	room := alice.createRoom("general")
	first, err := a.store.PostMessage(t.Context(), room, alice.user(), "before", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := a.store.PostMessage(t.Context(), room, alice.user(), fmt.Sprint("missed ", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	s := alice.open("", http.Header{"Last-Event-ID": {fmt.Sprint(first.ID)}})
	for range 3 {
		s.next()
	}
	s.close()
	poll.Until(t, "the replay to be counted", func() bool { return m.get("replayed") == 3 && m.get("replays") == 1 })

	for i := range 20 { // the test's replay limit is 20
		if _, err := a.store.PostMessage(t.Context(), room, alice.user(), fmt.Sprint(i), ""); err != nil {
			t.Fatal(err)
		}
	}
	for lastID, reason := range map[string]string{"not-a-number": "unknown_resume_point", fmt.Sprint(first.ID): "too_much_missed"} {
		s := alice.open("", http.Header{"Last-Event-ID": {lastID}})
		if ev := s.next(); ev.Name != resetEvent {
			t.Fatalf("Last-Event-ID %s: got %+v, want a reset", lastID, ev)
		}
		s.close()
		if n := m.get("reset " + reason); n != 1 {
			t.Errorf("reset %s counted %d times, want 1", reason, n)
		}
	}
}

// The relay reports how long each commit waited to be handed on.
func TestRelayMetersWaits(t *testing.T) {
	var mu sync.Mutex
	var waits []time.Duration
	out := &recordedFanout{}
	rl := NewRelay(out, nil)
	rl.MeterWaits(func(d time.Duration) { mu.Lock(); waits = append(waits, d); mu.Unlock() })
	defer rl.Close()
	for i := range 3 {
		rl.Committed([]chat.Message{{ID: int64(i + 1), RoomID: 1, AuthorID: 1, Body: "hi"}})
	}
	if err := rl.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 3 {
		t.Fatalf("waits %v: want one per commit (a Sync is none)", waits)
	}
}

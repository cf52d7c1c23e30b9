package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/store"
)

const week = 7 * 24 * time.Hour

// A stream resuming from before messages retention deleted is told to
// reload: replaying what is left would present a gap as complete. From
// the horizon on, replay goes on as before.
func TestStreamResetsFromBeforeTheRetentionHorizon(t *testing.T) {
	clk := &clock{t: time.Now().Add(-4 * week)}
	meter := &countingMeter{}
	a := newAppStore(t, hub.Options{}, store.Options{Now: clk.now}, nil, func(d *Deps) { d.Meter = meter })
	alice := a.signup("alice")
	room := alice.createRoom("general")
	post := func(body string) int64 {
		m, err := a.store.PostMessage(t.Context(), room, alice.user(), body, "")
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	first := post("old one")
	post("old two")
	clk.add(3 * week)
	kept := post("new")
	if n, err := a.store.PurgeOlderThan(t.Context(), week, store.PurgeBatch); err != nil || n == 0 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	_, horizon, err := a.store.ReplayBounds(t.Context())
	if err != nil || horizon < first {
		t.Fatalf("horizon %d, %v", horizon, err)
	}

	for _, from := range []int64{first - 1, first, horizon - 1} {
		s := alice.open("", http.Header{"Last-Event-ID": {fmt.Sprint(from)}})
		if ev := s.next(); ev.Name != "rtm-reset" || ev.Data != "older messages were deleted" {
			t.Fatalf("resuming after %d (horizon %d): got %+v, want a reset", from, horizon, ev)
		}
		s.close()
	}
	if n := meter.get("reset deleted"); n != 3 {
		t.Errorf("resets counted as deleted: %d, want 3", n)
	}
	s := alice.open("", http.Header{"Last-Event-ID": {fmt.Sprint(horizon)}})
	if ev := s.next(); ev.IntID() != kept {
		t.Fatalf("resuming at the horizon: got %+v, want message %d", ev, kept)
	}
	// A page loaded now starts at the newest id, never below the horizon
	// (it would be reset, reload, and be reset again).
	page := alice.get(fmt.Sprintf("/rooms/%d", room), nil)
	m := regexp.MustCompile(`/events\?after=(\d+)`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no stream on the room page:\n%s", page.body)
	}
	if after, _ := strconv.ParseInt(m[1], 10, 64); after < horizon {
		t.Fatalf("a page loaded now resumes after %d, below the horizon %d", after, horizon)
	}
}

// The same for a guest's widget stream.
func TestGuestStreamResetsFromBeforeTheRetentionHorizon(t *testing.T) {
	storeClk := &clock{t: time.Now().Add(-4 * week)}
	clk := &clock{t: time.Now()}
	e := &embedRig{clock: clk}
	e.a = newAppStore(t, hub.Options{}, store.Options{Now: storeClk.now}, nil, func(d *Deps) { d.Now = clk.now })
	e.admin = e.a.signup("admin")
	e.room = e.admin.createRoom("help")
	e.site, e.secret = e.registerSite(t, "https://host.example", url.Values{"rooms": {itoa(e.room)}, "guests": {"1"}})
	old, err := e.a.store.PostMessage(t.Context(), e.room, e.admin.user(), "old", "")
	if err != nil {
		t.Fatal(err)
	}
	storeClk.add(3 * week)
	if _, err := e.a.store.PostMessage(t.Context(), e.room, e.admin.user(), "new", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.store.PurgeOlderThan(t.Context(), week, store.PurgeBatch); err != nil {
		t.Fatal(err)
	}
	e.a.settle()
	guest := e.embedStream(t, fmt.Sprintf("site=%d&room=%d&after=%d", e.site, e.room, old.ID-1))
	if ev, err := guest.Next(streamWait); err != nil || ev.Name != "rtm-reset" {
		t.Fatalf("a guest resuming before the horizon got %+v, %v; want a reset", ev, err)
	}
}

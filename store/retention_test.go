package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Messages older than the age go, in transactions of at most a batch
// each, with everything that refers to them; newer ones stay, and so do
// history pages, search and replay of what is left.
func TestPurgeDeletesOldMessagesInBatches(t *testing.T) {
	clock := newTestClock()
	s := openTest(t, Options{Now: clock.now})
	ctx := context.Background()
	alice, bob := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	room := mustRoom(t, s, alice, "general")
	if err := s.Join(ctx, room.ID, bob); err != nil {
		t.Fatal(err)
	}
	const batch = 50
	var old []chat.Message
	for i := range 2*batch + 17 {
		m, err := s.PostMessage(ctx, room.ID, alice, fmt.Sprintf("ancient zebra %d @bob", i), "")
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, m)
	}
	if _, _, err := s.React(ctx, room.ID, old[3].ID, bob, "👍"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EditMessage(ctx, room.ID, old[4].ID, alice, "ancient zebra, edited"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Announce(ctx, alice, chat.AnnouncementTargets{Usernames: []string{"bob"}}, "ancient notice"); err != nil {
		t.Fatal(err)
	}
	clock.add(10 * 24 * time.Hour)
	reply, err := s.PostReply(ctx, room.ID, bob, "a fresh reply to an old line", "", old[5].ID)
	if err != nil {
		t.Fatal(err)
	}
	var fresh []int64
	for i := range 9 {
		m, err := s.PostMessage(ctx, room.ID, alice, fmt.Sprint("fresh giraffe ", i), "")
		if err != nil {
			t.Fatal(err)
		}
		fresh = append(fresh, m.ID)
	}
	oldCount := countRows(t, s, "messages") - 10
	batchesBefore, _ := s.Stats()

	deleted, err := s.PurgeOlderThan(ctx, 7*24*time.Hour, batch)
	if err != nil {
		t.Fatal(err)
	}
	batches, _ := s.Stats()
	if deleted != oldCount || countRows(t, s, "messages") != 10 {
		t.Fatalf("deleted %d of %d old messages; %d left, want the 10 new", deleted, oldCount, countRows(t, s, "messages"))
	}
	if want := int64((oldCount + batch - 1) / batch); batches-batchesBefore != want {
		t.Fatalf("%d messages went in %d transactions; want %d of at most %d", deleted, batches-batchesBefore, want, batch)
	}
	for _, table := range []string{"reactions", "message_edits", "mentions", "announcement_recipients", "announcements"} {
		if n := countRows(t, s, table); n != 0 {
			t.Errorf("%s keeps %d rows of deleted messages", table, n)
		}
	}

	_, horizon, err := s.ReplayBounds(ctx)
	if err != nil || horizon < old[len(old)-1].ID || horizon >= reply.ID {
		t.Fatalf("replay horizon %d, %v; want the newest deleted id, at least %d, below %d", horizon, err, old[len(old)-1].ID, reply.ID)
	}
	if m, err := messageByID(ctx, s.rq, reply.ID); err != nil || m.ReplyTo != nil || m.Body != reply.Body {
		t.Fatalf("the reply to a deleted message: %+v, %v", m, err)
	}
	checkHistoryPages(t, s, room.ID, append([]int64{reply.ID}, fresh...))
	if hits, _, err := s.Search(ctx, bob.ID, chat.SearchQuery{Words: []string{"zebra"}}); err != nil || len(hits) != 0 {
		t.Fatalf("search finds deleted messages: %d hits, %v", len(hits), err)
	}
	if hits, _, err := s.Search(ctx, bob.ID, chat.SearchQuery{Words: []string{"giraffe"}}); err != nil || len(hits) != 9 {
		t.Fatalf("search for kept messages: %d hits, %v", len(hits), err)
	}
	if missed, err := s.Missed(ctx, bob.ID, horizon, 100); err != nil || len(missed) != 10 {
		t.Fatalf("replay from the horizon: %d messages, %v", len(missed), err)
	}

	if n, err := s.PurgeOlderThan(ctx, 7*24*time.Hour, batch); err != nil || n != 0 {
		t.Fatalf("a second purge deleted %d, %v", n, err)
	}
	if again, _ := s.Stats(); again != batches {
		t.Fatal("a purge with nothing to delete wrote")
	}
}

// checkHistoryPages pages through a room's history, three at a time, and
// wants exactly ids, in order.
func checkHistoryPages(t *testing.T, s *Store, room int64, ids []int64) {
	t.Helper()
	var got []int64
	before := int64(0)
	for {
		page, more, err := s.History(context.Background(), room, before, 3)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(page) - 1; i >= 0; i-- {
			got = append([]int64{page[i].ID}, got...)
		}
		if !more {
			break
		}
		before = page[0].ID
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("history pages hold %v; want %v", got, ids)
	}
}

func countRows(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.rq.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The search for where old messages end reads ids, not created_at: it
// must find the boundary wherever it lies, gaps in the ids included.
func TestLastMessageBefore(t *testing.T) {
	clock := newTestClock()
	s := openTest(t, Options{Now: clock.now})
	ctx := context.Background()
	alice := mustUser(t, s, "alice")
	room := mustRoom(t, s, alice, "general")
	t0 := clock.now()
	var ids []int64
	for i := range 40 {
		m, err := s.PostMessage(ctx, room.ID, alice, fmt.Sprint(i), "")
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 { // change events take ids between messages
			if _, _, err := s.React(ctx, room.ID, m.ID, alice, "👍"); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, m.ID)
		clock.add(time.Minute)
	}
	for _, tc := range []struct {
		at   time.Time
		want int64
	}{
		{t0.Add(-time.Hour), 0},
		{t0.Add(time.Second), ids[0]},
		{t0.Add(17*time.Minute + time.Second), ids[17]},
		{t0.Add(17 * time.Minute), ids[16]},
		{t0.Add(time.Hour), ids[39]},
	} {
		if got, err := s.lastMessageBefore(ctx, tc.at); err != nil || got != tc.want {
			t.Errorf("lastMessageBefore(t0%+v) = %d, %v; want %d", tc.at.Sub(t0), got, err, tc.want)
		}
	}
}

func TestPurgeRefusesBadArguments(t *testing.T) {
	s := openTest(t, Options{})
	for _, tc := range []struct {
		age   time.Duration
		batch int
	}{{0, 10}, {time.Hour, 0}, {-time.Hour, 10}} {
		if _, err := s.PurgeOlderThan(context.Background(), tc.age, tc.batch); err == nil {
			t.Errorf("PurgeOlderThan(%v, %d): want an error", tc.age, tc.batch)
		}
	}
}

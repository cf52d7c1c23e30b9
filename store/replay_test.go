package store

import (
	"context"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

func TestReplayFloorReachesBackInTime(t *testing.T) {
	clk := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	s := openTest(t, Options{Now: func() time.Time { return clk }})
	ctx := context.Background()
	ann := mustUser(t, s, "ann")
	room := mustRoom(t, s, ann, "lobby")
	var ids []int64
	for range 5 { // one message a second
		clk = clk.Add(time.Second)
		ids = append(ids, mustPost(t, s, room.ID, ann, "hi").ID)
	}
	for _, tc := range []struct {
		after int64
		back  time.Duration
		want  int64
	}{
		{ids[4], 0, ids[3]}, // made before the newest's own time: the one before
		{ids[4], 2500 * time.Millisecond, ids[1]},
		{ids[2], time.Hour, 0}, // nothing that old: replay all
		{ids[2], 1500 * time.Millisecond, ids[0]},
		{0, time.Second, 0},
	} {
		got, err := s.ReplayFloor(ctx, tc.after, func(made time.Time) time.Time { return made.Add(-tc.back) })
		if err != nil || got != tc.want {
			t.Errorf("ReplayFloor(%d, -%v) = %d, %v; want %d", tc.after, tc.back, got, err, tc.want)
		}
	}
}

// A batch that waits for another node's to commit is stamped once it may
// commit, not when it began waiting: its messages get ids after the other
// node's, and the replay floor takes times to rise with ids.
func TestABatchIsStampedOnceItMayCommit(t *testing.T) {
	if !onPostgres() {
		t.Skip("only a server engine makes a batch wait for other nodes")
	}
	clock := newTestClock()
	s := openTest(t, Options{Now: clock.now})
	ctx := context.Background()
	ann := mustUser(t, s, "ann")
	room := mustRoom(t, s, ann, "lobby")

	other, err := s.r.BeginTx(ctx, nil) // another node's batch, holding the commit lock
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(0x72746d_02)); err != nil { // postgres.commitLock
		t.Fatal(err)
	}
	posted := make(chan chat.Message, 1)
	go func() {
		m, err := s.PostMessage(ctx, room.ID, ann, "waited", "")
		if err != nil {
			t.Error(err)
		}
		posted <- m
	}()
	// Each look is a round trip to the server, which paces the loop.
	deadline := time.Now().Add(30 * time.Second)
	for waiting := 0; waiting == 0; {
		if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the post never waited for the commit lock")
		}
	}
	clock.add(10 * time.Second) // the other node's batch took that long
	if err := other.Commit(); err != nil {
		t.Fatal(err)
	}
	if m := <-posted; !m.Sent.Equal(clock.now()) {
		t.Fatalf("a batch that waited for the lock is stamped %v, want %v, when it could commit", m.Sent, clock.now())
	}
}

package store

import (
	"context"
	"testing"
	"time"
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

package redisbus

import (
	"testing"
	"time"
)

func TestReplayFromReachesBeforeGaps(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	var g gaps
	if got := g.replayFrom(at(100)); !got.Equal(at(100).Add(-Lag)) {
		t.Fatalf("no gaps: %v, want Lag before", got)
	}
	g.begin(at(200)) // this node's subscription down from 200 to 260
	if got := g.replayFrom(at(230)); !got.Equal(at(200).Add(-Lag)) {
		t.Errorf("during an open gap: %v", got)
	}
	g.end(at(260))
	g.add(at(300), at(310)) // another node dropped ops made from 300 to 310
	for _, tc := range []struct{ made, want int }{
		{150, 150},                        // before any gap
		{199, 199},                        // just before the gap
		{230, 200},                        // in it
		{260 + int(Lag/time.Second), 200}, // Lag after its end still reaches back
		{280, 280},                        // well after
		{305, 300},                        // in the other node's span
	} {
		if got := g.replayFrom(at(tc.made)); !got.Equal(at(tc.want).Add(-Lag)) {
			t.Errorf("made at %d: replay from %v, want %d s - Lag", tc.made, got.Sub(t0), tc.want)
		}
	}
}

package ratelimit

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	l := New(2, 3).WithClock(func() time.Time { return now }) // 2/s, bursts of 3
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("burst event %d refused", i)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("4th event: ok=%v wait=%v; want refused, 500ms", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("keys are independent")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("a token should have come back")
	}
	if ok, _ := l.Peek("a"); ok {
		t.Fatal("peek sees a token that is not there")
	}
	if n := l.Refused(); n != 1 {
		t.Fatalf("refused %d events, counted %d", 1, n)
	}
	l.Reset("a")
	if ok, _ := l.Peek("a"); !ok {
		t.Fatal("reset must refill")
	}
	now = now.Add(time.Hour)
	l.Allow("c")
	if n := l.Len(); n != 1 {
		t.Fatalf("idle keys kept: %d", n)
	}
}

func TestNoLimit(t *testing.T) {
	var nilLimiter *Limiter
	for _, l := range []*Limiter{New(0, 1), nilLimiter} {
		for range 1000 {
			if ok, _ := l.Allow("x"); !ok {
				t.Fatal("a zero rate must not limit")
			}
		}
		if n := l.Refused(); n != 0 {
			t.Fatalf("no limit, yet %d refusals counted", n)
		}
	}
}

// Package poll waits, in tests, for a state that no event announces (a
// connection count, a health flag): it looks again every few milliseconds
// until the condition holds, or fails after a deadline generous enough
// for a machine busy with other tests. Where an event exists (a sentinel
// message, a stream frame), wait for that instead.
package poll

import (
	"testing"
	"time"
)

// Limit is how long Until waits before failing the test.
const Limit = 30 * time.Second

// every is how often Until looks again. It only sets how soon a state
// that has come about is noticed, never whether the test passes.
const every = 5 * time.Millisecond

// Until returns once cond holds, or fails tb after Limit naming what it
// waited for.
func Until(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	Within(tb, Limit, what, cond)
}

// Within is Until with a limit of its own, for waits that scale with a
// benchmark's size.
func Within(tb testing.TB, limit time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Holds(limit, cond) {
		tb.Fatalf("waited %v for %s", limit, what)
	}
}

// Holds reports whether cond came to hold within limit, for a caller that
// explains a failure better itself (what is missing, a log).
func Holds(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(every)
	}
	return true
}

package store

import (
	"log/slog"
	"sync"
	"time"
)

// repeatEvery is how often a failure that keeps happening is logged again.
const repeatEvery = time.Minute

// repeatLog logs a failure that keeps recurring (a checkpoint every second
// against a read-only disk) without flooding the log: its first occurrence,
// then at most one line per repeatEvery that counts the occurrences left
// out, and one line when it stops. Safe for concurrent use.
type repeatLog struct {
	log               *slog.Logger
	failed, recovered string // the messages of the two kinds of line

	mu       sync.Mutex
	count    int       // failures in the current run; 0 while all is well
	since    time.Time // when the current run began
	logged   time.Time // when it was last logged
	unlogged int       // failures since then that were not logged
}

func newRepeatLog(log *slog.Logger, failed, recovered string) *repeatLog {
	return &repeatLog{log: log, failed: failed, recovered: recovered}
}

// fail records one occurrence at now, with attrs (slog key-value pairs)
// describing it, and logs it unless a line went out under repeatEvery ago.
func (r *repeatLog) fail(now time.Time, attrs ...any) {
	r.mu.Lock()
	r.count++
	if r.count == 1 {
		r.since = now
	} else if now.Sub(r.logged) < repeatEvery {
		r.unlogged++
		r.mu.Unlock()
		return
	}
	if r.unlogged > 0 {
		attrs = append(attrs, "suppressed", r.unlogged)
	}
	attrs = append(attrs, "since", r.since)
	r.logged, r.unlogged = now, 0
	r.mu.Unlock()
	r.log.Warn(r.failed, attrs...)
}

// ok records that the thing works at now, logging the end of a run of
// failures if one was going on.
func (r *repeatLog) ok(now time.Time) {
	r.mu.Lock()
	count, since := r.count, r.since
	r.count, r.unlogged = 0, 0
	r.mu.Unlock()
	if count > 0 {
		r.log.Info(r.recovered, "failures", count, "since", since, "lasted", now.Sub(since).Round(time.Millisecond))
	}
}

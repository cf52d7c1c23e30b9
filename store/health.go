package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// healthFresh is how long the writer's latest outcome answers for the
// store's health. Within it a health check asks nothing of the writer;
// after it, one small write goes through the writer to find out. Health
// checks so cost at most one write a second, and none while people write.
const healthFresh = time.Second

// writerHealth is how the writer's latest batch ended: what Health reports.
type writerHealth struct {
	mu    sync.Mutex
	at    time.Time // when the latest batch ended; zero before the first
	err   error     // why it failed; nil if it committed
	since time.Time // when the current run of failures began
}

func (h *writerHealth) record(now time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil && h.err == nil {
		h.since = now
	}
	h.at, h.err = now, err
}

// fresh reports whether the latest outcome is recent enough to stand for
// the writer's health at now (a clock that went back makes it stale).
func (h *writerHealth) fresh(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.at.IsZero() && !now.Before(h.at) && now.Sub(h.at) < healthFresh
}

func (h *writerHealth) report() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		return nil
	}
	return &notWritable{err: h.err, since: h.since}
}

// notWritable says why writes fail, and since when.
type notWritable struct {
	err   error
	since time.Time
}

func (e *notWritable) Error() string {
	return fmt.Sprintf("database not writable: %v (since %s)", e.err, e.since.UTC().Format(time.RFC3339))
}

func (e *notWritable) Unwrap() error { return e.err }

// prober holds the latest health probe, so that concurrent health checks
// share one write instead of queueing one each behind a stalled writer.
type prober struct {
	turn   chan struct{} // one caller at a time looks at (and replaces) o
	o      *op
	queued time.Time
}

// Health reports whether the store can serve: nil, or why not. Reads must
// work, and so must writes: people who cannot post feel the site is down.
// It answers from the writer's latest outcome when that is under
// healthFresh old, and otherwise sends one small write through the writer
// (a single row, updated in place) and waits for it as long as ctx allows.
func (s *Store) Health(ctx context.Context) error {
	if _, err := s.LatestID(ctx); err != nil {
		return fmt.Errorf("database not readable: %w", err)
	}
	o, queued, err := s.healthProbe(ctx)
	if err != nil {
		return fmt.Errorf("database health: %w", err)
	}
	if o != nil {
		select {
		case <-o.done: // the writer recorded its outcome before closing done
		case <-ctx.Done():
			return fmt.Errorf("database writes stalled: a write queued at %s has not finished", queued.UTC().Format(time.RFC3339))
		}
	}
	return s.writes.report()
}

// healthProbe returns the probe to wait for: none while the writer's
// latest outcome is fresh, else the probe still in flight, else a new one.
func (s *Store) healthProbe(ctx context.Context) (*op, time.Time, error) {
	select {
	case s.probe.turn <- struct{}{}:
		defer func() { <-s.probe.turn }()
	case <-ctx.Done():
		return nil, time.Time{}, ctx.Err()
	}
	now := s.now()
	if s.writes.fresh(now) {
		return nil, time.Time{}, nil
	}
	if p := s.probe.o; p != nil && !isDone(p) {
		return p, s.probe.queued, nil
	}
	o := &op{run: touchHealthRow, single: true, done: make(chan struct{})}
	if err := s.enqueue(ctx, o); err != nil {
		return nil, time.Time{}, err
	}
	s.probe.o, s.probe.queued = o, now
	return o, now, nil
}

// touchHealthRow is the probe: a real write that commits, yet never grows
// the database, since it updates the same row each time.
func touchHealthRow(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
	_, err := q.ExecContext(ctx, `INSERT INTO health (id, checked_at) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`, millis(now))
	if err != nil {
		return nil, fmt.Errorf("store: health probe: %w", err)
	}
	return nil, nil
}

func isDone(o *op) bool {
	select {
	case <-o.done:
		return true
	default:
		return false
	}
}

// storageFailure reports whether err says the database cannot be written
// at all (read-only, full, failing disk, damaged file), as opposed to one
// write being refused for what it tried to do.
func storageFailure(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return serverCannotWrite(errorState(err))
	}
	switch e.Code() & 0xff { // the primary code, without the extended bits
	case sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT,
		sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_NOMEM:
		return true
	}
	return false
}

// discardConn closes db's idle connection so that the next use opens a
// fresh one. A connection that opened the database while it was read-only
// stays read-only after the file is writable again, and one whose COMMIT
// failed may still hold its transaction open.
func discardConn(db *sql.DB) {
	c, err := db.Conn(context.Background())
	if err != nil {
		return
	}
	// Returning ErrBadConn from Raw makes database/sql close the
	// connection rather than return it to the pool; that also closes c.
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
}

package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Meter hears how the writer and the checkpointer are doing, for the
// server's metrics (Options.Meter). Its methods run on the writer's and
// the checkpointer's goroutines: they must be quick and never block.
type Meter interface {
	// Batch reports a committed write transaction: how many writes it
	// carried, how long the oldest of them waited for the writer (from
	// its call until the transaction began), and how long the
	// transaction took to commit.
	Batch(writes int, queued, took time.Duration)
	// Checkpoint reports one background checkpoint of the SQLite log:
	// how long it took (with the wait for the writer's connection and the
	// time it held it, when it settled or truncated the log there), and
	// whether it truncated the log.
	Checkpoint(took time.Duration, truncated bool)
}

// WALSize reports the size of the SQLite write-ahead log file in bytes;
// ok is false for a database server, which keeps its own log.
func (s *Store) WALSize() (size int64, ok bool, err error) {
	if s.path == "" {
		return 0, false, nil
	}
	fi, err := os.Stat(s.path + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, true, nil // no log yet, or folded back on close
	}
	if err != nil {
		return 0, true, fmt.Errorf("store: size of the write-ahead log: %w", err)
	}
	return fi.Size(), true, nil
}

// Live counts the sessions that have not expired: the browsers and
// devices signed in (an ended or idle-expired session is not counted).
func (ss Sessions) Live(ctx context.Context) (int64, error) {
	var n int64
	if err := ss.s.rq.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE expiry > ?`, millis(ss.s.now())).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count sessions: %w", err)
	}
	return n, nil
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// versionWatch notices commits that another process made to the SQLite
// file (an admin command ending someone's sessions), so that the cache
// never hides them for long. PRAGMA data_version changes, on a given
// connection, whenever another connection has committed: on the writer's
// connection, which makes every commit of this store, only another
// process's commits (or a checkpoint on another connection that starts
// the log over, which is why the store truncates on this one) move it.
// The checkpoint loop reads it after each checkpoint (about every
// checkpointEvery, more often while the log grows); when it moved, the
// whole cache is flushed.
type versionWatch struct {
	mu      sync.Mutex
	conn    any // the writer's driver connection version was read on
	version int64
}

// noticeOtherWriters flushes the cache if another process has committed
// since the last look. The first look only takes the baseline. A new
// writer connection (one was discarded after a failure) counts its own
// versions, so it cannot tell what happened meanwhile: it flushes too.
func (s *Store) noticeOtherWriters(ctx context.Context) error {
	moved, err := s.readDataVersion(ctx)
	if moved && s.onOutside != nil {
		s.onOutside() // with the writer's connection free again
	}
	return err
}

// readDataVersion reads the writer connection's data version and records
// it (sawOtherWriter).
func (s *Store) readDataVersion(ctx context.Context) (moved bool, err error) {
	err = s.onWriterConn(ctx, func(ctx context.Context, c *sql.Conn) error {
		var conn any
		if err := c.Raw(func(dc any) error { conn = dc; return nil }); err != nil {
			return err
		}
		var version int64
		if err := c.QueryRowContext(ctx, "PRAGMA data_version").Scan(&version); err != nil {
			return err
		}
		moved = s.sawOtherWriter(conn, version)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: data version: %w", err)
	}
	return moved, nil
}

// sawOtherWriter records the version read on conn, flushing the cache if
// it moved, and reports whether it did (not at the first look).
func (s *Store) sawOtherWriter(conn any, version int64) bool {
	w := &s.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == conn && w.version == version {
		return false
	}
	moved := w.conn != nil
	if moved {
		s.cache.flush()
		s.log.Debug("another process changed the database; cache flushed")
	}
	w.conn, w.version = conn, version
	return moved
}

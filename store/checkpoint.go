package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// checkpointEvery is how often the background checkpoint copies committed
// WAL frames into the database file.
const checkpointEvery = time.Second

// defaultWALTruncateFrames is the log size (in 4 KiB pages) past which the
// checkpointer copies what is left of it and truncates it: 64 MiB.
const defaultWALTruncateFrames = 16_384

// truncateWait is how long a truncating checkpoint waits for readers still
// in the log (or another process's write). It runs on the writer's
// connection, so writers queue behind it meanwhile: it must stay short; if
// it runs out, the next tick tries again. (Passive checkpoints never wait.)
const truncateWait = 100 * time.Millisecond

// checkpointBusyEvery is how often checkpoints run while the log grows
// fast: a quarter of the writes of a second, settled each time, keeps
// each settling short and the log from reaching walTruncateFrames.
const checkpointBusyEvery = checkpointEvery / 4

// checkpointLoop runs checkpointOnce every checkpointEvery (more often
// while the log grows fast) until Close, and looks for other processes'
// commits (watch.go) each time.
func (s *Store) checkpointLoop() {
	defer close(s.checkpointsDone)
	t := time.NewTimer(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stopCheckpoints:
			return
		case <-t.C:
			s.checkpointOnce()
			if err := s.noticeOtherWriters(context.Background()); err != nil {
				s.cache.flush() // unable to tell: assume the worst
				s.log.Debug("cache flushed", "err", err)
			}
			if s.walGrowing {
				t.Reset(checkpointBusyEvery)
			} else {
				t.Reset(checkpointEvery)
			}
		}
	}
}

// walSettleFrames is the log size past which a checkpoint settles it.
func (s *Store) walSettleFrames() int { return max(1, s.walTruncateFrames/16) }

// checkpointOnce runs a passive checkpoint on the checkpointer's own
// connection, which blocks neither the writer nor readers: it keeps the
// WAL from growing while the writer has automatic checkpoints off. The log
// starts over at the writer's next commit once every frame in it has been
// copied and no reader is in it. Under steady writes the passive
// checkpoint never catches up (the writer commits while it copies), so
// while the log grows past a sixteenth of walTruncateFrames settleWAL
// copies the rest on the writer's connection, between two batches. A
// reader that stays in the log can still put the new start off; past
// walTruncateFrames a short, bounded truncating checkpoint forces it, also
// holding the writer. It returns the log's size before, in frames, and
// whether it truncated it.
func (s *Store) checkpointOnce() (frames int, truncated bool, err error) {
	start := time.Now()
	defer func() {
		if s.meter != nil && err == nil {
			s.meter.Checkpoint(time.Since(start), truncated)
		}
	}()
	var busy, done int
	err = s.ck.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done)
	now := s.now()
	if err != nil {
		s.checkpointLog.fail(now, "err", err)
		discardConn(s.ck)    // it may have opened the log while it was read-only
		s.walGrowing = false // back to the calm pace while it fails
		return 0, false, err
	}
	s.checkpointLog.ok(now)
	if frames > 4*s.walTruncateFrames {
		s.largeLog.fail(now, "frames", frames, "checkpointed", done)
	} else {
		s.largeLog.ok(now)
	}
	// A log that has not grown since the last look starts over at the next
	// commit, or waits for a reader that settling would wait for too.
	s.walGrowing = frames >= s.walSettleFrames() && frames != s.walFramesSeen
	s.walFramesSeen = frames
	if frames < s.walTruncateFrames {
		// Even when done == frames, the writer has likely committed more
		// since the log's size was read.
		if s.walGrowing {
			if err := s.settleWAL(); err != nil {
				s.log.Debug("write-ahead log not settled", "frames", frames, "err", err)
			}
		}
		return frames, false, nil
	}
	truncated, err = s.truncateWAL()
	if !truncated {
		s.log.Debug("write-ahead log not truncated yet", "frames", frames, "err", err)
	}
	return frames, truncated, nil
}

// settleWAL copies into the database, on the writer's connection between
// two batches, the frames the passive checkpoint left: those committed
// while it ran, a few milliseconds' worth. The writer's next commit then
// starts the log over, unless a reader that began before it is still in
// the log. Without it the log grew to walTruncateFrames under steady
// writes (64 MiB in under two seconds at 10,000 posts/s), and each
// truncation held the writer for up to 100 ms. Being passive, it waits for
// no reader. A checkpoint that reaches the log's end fsyncs the database
// file, and the passive one never does under steady writes: the file is
// synced first, from here, so that the writer is held only for the pages
// this one copies.
func (s *Store) settleWAL() error {
	if s.dbFile != nil {
		if err := s.dbFile.Sync(); err != nil {
			s.log.Debug("database file not synced before settling", "err", err)
		}
	}
	return s.onWriterConn(context.Background(), func(ctx context.Context, c *sql.Conn) error {
		_, err := c.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		return err
	})
}

// truncateWAL checkpoints the whole log and truncates it to zero bytes. It
// reports false if a reader (or another process's write) held on past
// truncateWait.
//
// It runs on the writer's connection, which the writer then waits for (as
// it would for the checkpoint's locks anyway). A log started over by
// another connection moves the writer's PRAGMA data_version as another
// process's commit does (watch.go), so truncating from the checkpointer's
// connection flushed the whole cache and had every stream's session
// checked again, each time the log filled.
func (s *Store) truncateWAL() (truncated bool, err error) {
	err = s.onWriterConn(context.Background(), func(ctx context.Context, c *sql.Conn) error {
		// The writer's own busy timeout is long, for other processes'
		// writes; a truncation must give up quickly instead.
		if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", truncateWait.Milliseconds())); err != nil {
			return err
		}
		var busy, frames, done int
		err := c.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done)
		if _, restoreErr := c.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", writerBusyTimeout.Milliseconds())); restoreErr != nil {
			c.Raw(func(any) error { return driver.ErrBadConn }) // never write with the short timeout
			return errors.Join(err, restoreErr)
		}
		truncated = err == nil && busy == 0
		return err
	})
	return truncated, err
}

// onWriterConn runs fn on the writer's one connection, which the writer
// waits for meanwhile (it is handed over between two batches).
func (s *Store) onWriterConn(ctx context.Context, fn func(context.Context, *sql.Conn) error) error {
	c, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(ctx, c)
}

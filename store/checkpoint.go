package store

import (
	"context"
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

// truncateWait is the checkpointer's busy timeout: how long a truncating
// checkpoint waits for the writer and for readers still in the log.
// Writers queue behind it meanwhile, so it must stay short; if it runs
// out, the next tick tries again. (Passive checkpoints never wait.)
const truncateWait = 100 * time.Millisecond

// checkpointLoop runs checkpointOnce every checkpointEvery until Close,
// and looks for other processes' commits (watch.go) as often.
func (s *Store) checkpointLoop() {
	defer close(s.checkpointsDone)
	t := time.NewTicker(checkpointEvery)
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
		}
	}
}

// checkpointOnce runs a passive checkpoint on the checkpointer's own
// connection: it never blocks the writer or readers, and it keeps the WAL
// from growing while the writer has automatic checkpoints off. A passive
// checkpoint copies frames but the log only starts over at a moment when
// no reader is in it, which steady reads can put off forever; past
// walTruncateFrames it forces that moment with a short, bounded truncating
// checkpoint. It returns the log's size before, in frames, and whether it
// truncated the log.
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
		discardConn(s.ck) // it may have opened the log while it was read-only
		return 0, false, err
	}
	s.checkpointLog.ok(now)
	if frames > 4*s.walTruncateFrames {
		s.largeLog.fail(now, "frames", frames, "checkpointed", done)
	} else {
		s.largeLog.ok(now)
	}
	if frames < s.walTruncateFrames {
		return frames, false, nil
	}
	truncated, err = s.truncateWAL()
	if !truncated {
		s.log.Debug("write-ahead log not truncated yet", "frames", frames, "err", err)
	}
	return frames, truncated, nil
}

// truncateWAL checkpoints the whole log and truncates it to zero bytes. It
// reports false if a reader held on past truncateWait.
//
// It runs on the writer's connection, which the writer then waits for (as
// it would for the checkpoint's locks anyway). A log started over by
// another connection moves the writer's PRAGMA data_version as another
// process's commit does (watch.go), so truncating from the checkpointer's
// connection flushed the whole cache and had every stream's session
// checked again, each time the log filled.
func (s *Store) truncateWAL() (bool, error) {
	ctx := context.Background()
	c, err := s.w.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer c.Close()
	// The writer's own busy timeout is long, for other processes' writes;
	// a truncation must give up quickly instead.
	if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", truncateWait.Milliseconds())); err != nil {
		return false, err
	}
	var busy, frames, done int
	err = c.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done)
	if _, restoreErr := c.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", writerBusyTimeout.Milliseconds())); restoreErr != nil {
		c.Raw(func(any) error { return driver.ErrBadConn }) // never write with the short timeout
		return false, errors.Join(err, restoreErr)
	}
	return err == nil && busy == 0, err
}

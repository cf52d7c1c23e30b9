package store

import (
	"context"
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
// reports false if the writer or a reader held on past truncateWait (the
// checkpointer's busy timeout).
func (s *Store) truncateWAL() (bool, error) {
	var busy, frames, done int
	if err := s.ck.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done); err != nil {
		return false, err
	}
	return busy == 0, nil
}

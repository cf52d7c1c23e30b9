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

// checkpointLoop runs passive checkpoints on its own connection: they never
// block the writer or readers, and they keep the WAL from growing while the
// writer has automatic checkpoints off. A passive checkpoint copies frames
// but the log only starts over at a moment when no reader is in it, which
// steady reads can put off forever; past walTruncateFrames the loop forces
// that moment with a short, bounded truncating checkpoint.
func (s *Store) checkpointLoop() {
	defer close(s.checkpointsDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	var warned time.Time
	for {
		select {
		case <-s.stopCheckpoints:
			return
		case <-t.C:
		}
		var busy, frames, done int
		err := s.ck.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done)
		switch {
		case err != nil:
			s.log.Warn("checkpoint failed", "err", err)
		case frames >= s.walTruncateFrames:
			if ok, err := s.truncateWAL(); !ok {
				s.log.Debug("write-ahead log not truncated yet", "frames", frames, "err", err)
			}
		}
		if err == nil && frames > 4*s.walTruncateFrames && time.Since(warned) > time.Minute {
			warned = time.Now()
			s.log.Warn("write-ahead log is large", "frames", frames, "checkpointed", done)
		}
	}
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

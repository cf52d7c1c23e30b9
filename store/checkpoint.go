package store

import (
	"context"
	"time"
)

// checkpointEvery is how often the background checkpoint copies committed
// WAL frames into the database file.
const checkpointEvery = time.Second

// checkpointLoop runs passive checkpoints on its own connection: they never
// block the writer or readers, and they keep the WAL from growing while the
// writer has automatic checkpoints off.
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
		if err != nil {
			s.log.Warn("checkpoint failed", "err", err)
		} else if frames > 100_000 && time.Since(warned) > time.Minute {
			// The log restarts from its beginning only at a moment with no
			// reader in it; a constant stream of reads postpones that.
			warned = time.Now()
			s.log.Warn("write-ahead log is large", "frames", frames, "checkpointed", done)
		}
	}
}

package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/rtmessenger/rtmessenger/store"
)

// retentionEvery is how often old messages are looked for: they are
// deleted at most this long after they reach the age.
const retentionEvery = time.Hour

// purgeOldMessages deletes the messages older than days, at start and
// every retentionEvery, until ctx ends (-retention-days). The store does
// it in small transactions through its writer, so posts wait at most one.
func purgeOldMessages(ctx context.Context, st *store.Store, days int, log *slog.Logger) {
	age := time.Duration(days) * 24 * time.Hour
	t := time.NewTicker(retentionEvery)
	defer t.Stop()
	for {
		start := time.Now()
		n, err := st.PurgeOlderThan(ctx, age, store.PurgeBatch)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("retention: deleting old messages failed", "deleted", n, "err", err)
		case n > 0:
			log.Info("retention: deleted old messages", "count", n, "older_than_days", days, "took", time.Since(start).Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

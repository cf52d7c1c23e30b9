package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Retention: messages older than a set age are deleted, in small
// transactions through the writer, with what hangs off them.

// PurgeBatch is how many messages one purge transaction deletes: posts
// queued meanwhile wait for at most one such batch.
const PurgeBatch = 500

// PurgeOlderThan deletes every message made more than age ago, oldest
// first, batch at a time (each its own transaction through the writer),
// with its reactions, edits, mentions, announcement receipts (and an
// announcement left with none) and search index entries; replies to it
// lose their reference. It records the newest id deleted as the replay
// horizon (ReplayHorizon). It returns how many messages it deleted.
func (s *Store) PurgeOlderThan(ctx context.Context, age time.Duration, batch int) (int, error) {
	if age <= 0 || batch <= 0 {
		return 0, fmt.Errorf("store: purge: want a positive age and batch, got %v and %d", age, batch)
	}
	bound, err := s.lastMessageBefore(ctx, s.now().Add(-age))
	if err != nil || bound == 0 {
		return 0, err
	}
	total := 0
	for ctx.Err() == nil {
		var n int
		_, err := s.writeText(ctx, func(ctx context.Context, q querier, _ time.Time) ([]chat.Message, error) {
			var err error
			n, err = purgeBatch(ctx, q, bound, batch)
			return nil, err
		})
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
	return total, ctx.Err()
}

// lastMessageBefore returns the newest message id made before t (0 if
// none). Ids follow time (given out in commit order, stamped with the
// commit's clock), so it binary-searches the id index: a few dozen point
// reads however many messages there are, where a filter on created_at
// would read every row (no index on it: posting would pay for one).
func (s *Store) lastMessageBefore(ctx context.Context, t time.Time) (int64, error) {
	var lo, hi int64
	if err := s.rq.QueryRowContext(ctx, `SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM messages`).Scan(&lo, &hi); err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	var found int64
	for lo <= hi && hi > 0 {
		mid := lo + (hi-lo)/2
		var id, made int64
		err := s.rq.QueryRowContext(ctx, `SELECT id, created_at FROM messages WHERE id >= ? ORDER BY id LIMIT 1`, mid).Scan(&id, &made)
		if errors.Is(err, sql.ErrNoRows) {
			hi = mid - 1 // deleted meanwhile
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("store: purge: %w", err)
		}
		if made < millis(t) {
			found, lo = id, id+1
		} else {
			hi = mid - 1 // no message in [mid, id) exists
		}
	}
	return found, nil
}

// purgeBatch deletes the oldest messages with ids up to bound, at most
// limit of them, and what refers to them. They are the oldest there are,
// so the id range they span holds them and no other.
func purgeBatch(ctx context.Context, q querier, bound int64, limit int) (int, error) {
	var n int
	var lo, hi int64
	err := q.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(id), 0), COALESCE(MAX(id), 0)
		FROM (SELECT id FROM messages WHERE id <= ? ORDER BY id LIMIT ?) AS batch`, bound, limit).Scan(&n, &lo, &hi)
	if err != nil || n == 0 {
		return 0, wrapPurge(err)
	}
	announced, err := announcementsIn(ctx, q, lo, hi)
	if err != nil {
		return 0, err
	}
	for _, stmt := range []string{
		`DELETE FROM reactions WHERE message_id BETWEEN ? AND ?`,
		`DELETE FROM message_edits WHERE message_id BETWEEN ? AND ?`,
		`DELETE FROM mentions WHERE message_id BETWEEN ? AND ?`,
		`DELETE FROM announcement_recipients WHERE message_id BETWEEN ? AND ?`,
		`UPDATE messages SET reply_to = NULL WHERE reply_to BETWEEN ? AND ?`,
		`DELETE FROM messages WHERE id BETWEEN ? AND ?`, // SQLite's search index follows by trigger
	} {
		if _, err := q.ExecContext(ctx, stmt, lo, hi); err != nil {
			return 0, wrapPurge(err)
		}
	}
	for _, a := range announced {
		if _, err := q.ExecContext(ctx, `DELETE FROM announcements WHERE id = ?
			AND NOT EXISTS (SELECT 1 FROM announcement_recipients WHERE announcement_id = ?)`, a, a); err != nil {
			return 0, wrapPurge(err)
		}
	}
	return n, wrapPurge(raiseHorizon(ctx, q, hi))
}

// announcementsIn lists the announcements with copies among messages lo..hi.
func announcementsIn(ctx context.Context, q querier, lo, hi int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT announcement_id FROM announcement_recipients WHERE message_id BETWEEN ? AND ?`, lo, hi)
	if err != nil {
		return nil, wrapPurge(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, wrapPurge(err)
		}
		out = append(out, id)
	}
	return out, wrapPurge(rows.Err())
}

// raiseHorizon moves the replay horizon up to id (never down).
func raiseHorizon(ctx context.Context, q interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}, id int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO retention (id, horizon) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET horizon = CASE WHEN excluded.horizon > retention.horizon THEN excluded.horizon ELSE retention.horizon END`, id)
	return err
}

func wrapPurge(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: purge: %w", err)
}

// ReplayBounds returns, in one read, the newest stream event id (as
// LatestID) and the newest message id deleted by retention or lost to a
// restore (0 when none): what a resuming stream needs to know whether it
// can be replayed.
func (s *Store) ReplayBounds(ctx context.Context) (latest, horizon int64, err error) {
	q := `SELECT (` + s.latestEvent() + `), COALESCE((SELECT horizon FROM retention WHERE id = 1), 0)`
	if err := s.rq.QueryRowContext(ctx, q).Scan(&latest, &horizon); err != nil {
		return 0, 0, fmt.Errorf("store: replay bounds: %w", err)
	}
	return latest, horizon, nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ReplayFloor returns the id to replay after for a stream resuming after
// event after, when events may have reached it out of id order (several
// nodes: see redisbus.Bus.ReplayFrom): the newest message made before
// from(t), t being when the newest message up to after was made. Ids are
// given in commit order, so that message's time is no later than the
// event's. Both reads walk the id index back from after, over the window
// only.
func (s *Store) ReplayFloor(ctx context.Context, after int64, from func(made time.Time) time.Time) (int64, error) {
	var made int64
	err := s.rq.QueryRowContext(ctx, `SELECT created_at FROM messages WHERE id <= ? ORDER BY id DESC LIMIT 1`, after).Scan(&made)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: replay floor: %w", err)
	}
	var floor int64
	err = s.rq.QueryRowContext(ctx, `SELECT id FROM messages WHERE id <= ? AND created_at < ? ORDER BY id DESC LIMIT 1`,
		after, millis(from(fromMillis(made)))).Scan(&floor)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: replay floor: %w", err)
	}
	return floor, nil
}

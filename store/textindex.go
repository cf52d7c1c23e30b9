package store

import (
	"context"
	"fmt"
)

// textIndex adds a batch's new messages to the search index (SQLite's
// FTS5) in one statement, in the batch's transaction: see
// migrations/0013_fts_batched.sql. Messages get ids above from, the
// newest id given out before them; only this writer gives ids out.
type textIndex struct {
	q    querier
	from int64
}

// newTextIndex reads where the batch's new messages will start. A server
// engine indexes by itself (textSearcher): then it does nothing.
func (s *Store) newTextIndex(ctx context.Context, q querier) (*textIndex, error) {
	if s.eng != nil {
		return nil, nil
	}
	ix := &textIndex{q: q}
	if err := q.QueryRowContext(ctx, latestSQLiteEvent).Scan(&ix.from); err != nil {
		return nil, fmt.Errorf("store: search index: %w", err)
	}
	return ix, nil
}

// catchUp indexes the text messages added since the last catchUp. It runs
// at the end of a batch, and before an op that changes a message's text,
// whose trigger must find that message indexed.
func (ix *textIndex) catchUp(ctx context.Context) error {
	if ix == nil {
		return nil
	}
	var upTo int64
	if err := ix.q.QueryRowContext(ctx, latestSQLiteEvent).Scan(&upTo); err != nil {
		return fmt.Errorf("store: search index: %w", err)
	}
	if upTo <= ix.from {
		return nil
	}
	if _, err := ix.q.ExecContext(ctx, `
		INSERT INTO messages_fts (rowid, body, room_id, author_id)
		SELECT id, body, room_id, author_id FROM messages
		WHERE id > ? AND id <= ? AND kind IN (0, 4) AND body <> ''`, ix.from, upTo); err != nil {
		return fmt.Errorf("store: search index: %w", err)
	}
	ix.from = upTo
	return nil
}

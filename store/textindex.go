package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// textIndex adds new messages to the search index (SQLite's FTS5) in one
// statement, in a write batch's transaction: see
// migrations/0013_fts_batched.sql. FTS5 writes a new index segment for
// every transaction that adds to it, and that segment (a few pages, and
// its merges later) was more than half of what a commit of one post cost:
// 151–168 µs a post committed alone, 69–74 µs with the index caught up
// every 250 ms instead (BenchmarkPostMessage). So batches index
// what is new only every indexEvery, before any op that changes a
// message's text (whose trigger must find that message indexed), and
// whenever a search asks for it (Store.indexForSearch): a search sees
// every message committed before it began, unless the database cannot be
// written at all (then it answers from what is indexed).
//
// Where it stands is kept in the database (search_progress), read and
// moved in the catch-up's transaction, so a batch that rolls back, a
// restart and another process writing to the file (the admin command
// line) all find it right; a batch that does not catch up reads nothing.
// The rest belongs to the writer goroutine; searches read upTo.
type textIndex struct {
	at      time.Time // when this process last caught up
	reached int64     // where this batch's catch-up brought the index; 0: none
	// upTo is where the index stands as of the last commit that caught up.
	upTo atomic.Int64
}

// indexEvery is how often a busy writer brings the index up to date. A
// catch-up holds up its batch's commit for as long as it takes, and that
// grows with the rows it adds and the segment merges they set off: at
// 1,000 posts a second, every 250 ms took 1–2 ms and up to 11–33 ms when
// merging; every 50 ms takes 0.3 ms and up to 6 ms, for a few more
// segments a second (about 80 µs each).
const indexEvery = 50 * time.Millisecond

// due reports whether the batch ending at now should bring the index up
// to date.
func (ix *textIndex) due(now time.Time) bool { return now.Sub(ix.at) >= indexEvery }

// catchUp indexes, in the batch's transaction q, the text messages added
// since the index last caught up.
func (ix *textIndex) catchUp(ctx context.Context, q querier, now time.Time) error {
	var from, latest int64
	if err := q.QueryRowContext(ctx, `SELECT upto, (`+latestSQLiteEvent+`) FROM search_progress`).Scan(&from, &latest); err != nil {
		return fmt.Errorf("store: search index: %w", err)
	}
	ix.at, ix.reached = now, max(from, latest)
	if latest <= from {
		return nil
	}
	if _, err := q.ExecContext(ctx, `
		INSERT INTO messages_fts (rowid, body, room_id, author_id)
		SELECT id, body, room_id, author_id FROM messages
		WHERE id > ? AND id <= ? AND kind IN (0, 4) AND body <> ''`, from, latest); err != nil {
		return fmt.Errorf("store: search index: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE search_progress SET upto = ?`, latest); err != nil {
		return fmt.Errorf("store: search index: %w", err)
	}
	return nil
}

// end settles a batch: once it committed, searches may rely on what its
// catch-up indexed.
func (ix *textIndex) end(committed bool) {
	if committed && ix.reached > 0 {
		ix.upTo.Store(ix.reached)
	}
	ix.reached = 0
}

// indexForSearch brings the search index up to date with every message
// committed before the call, waiting for the writer if it is behind (as
// long as ctx allows: the catch-up is a no-op op, safe to leave to the
// writer).
func (s *Store) indexForSearch(ctx context.Context) error {
	if s.eng != nil {
		return nil // a server engine indexes by itself
	}
	latest, err := s.LatestID(ctx)
	if err != nil || s.text.upTo.Load() >= latest {
		return err
	}
	// An op that changes text has the index caught up before it runs.
	o := &op{run: func(context.Context, querier, time.Time) ([]chat.Message, error) { return nil, nil }, text: true, done: make(chan struct{})}
	if err := s.enqueue(ctx, o); err != nil {
		return err
	}
	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Sessions stores web sessions in the same database. It implements the
// scs.CtxStore interface without importing scs.
type Sessions struct{ s *Store }

// Sessions returns the session store.
func (s *Store) Sessions() Sessions { return Sessions{s} }

// FindCtx returns the session data for a live token.
func (ss Sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	now := ss.s.now()
	if b, ok := ss.s.cache.session(token, now); ok {
		return b, true, nil
	}
	gen := ss.s.cache.generation()
	var b []byte
	var expiry int64
	err := ss.s.rq.QueryRowContext(ctx, `SELECT data, expiry FROM sessions WHERE token = ? AND expiry > ?`,
		token, millis(now)).Scan(&b, &expiry)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: find session: %w", err)
	}
	ss.s.cache.putSession(token, b, fromMillis(expiry), gen)
	return b, true, nil
}

// CommitCtx saves session data until expiry. An ended session stays ended:
// a request that was still running with it when it ended (and so commits
// its data afterwards) stores nothing.
func (ss Sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	gen := ss.s.cache.generation()
	res, err := ss.s.wq.ExecContext(ctx, `
		INSERT INTO sessions (token, data, expiry)
		SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM revoked_sessions WHERE token = ?)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		token, b, millis(expiry), token)
	if err != nil {
		ss.s.cache.forgetSession(token)
		return fmt.Errorf("store: commit session: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		ss.s.cache.putSession(token, b, expiry, gen)
	}
	return nil
}

// DeleteCtx ends a session for good: the row goes and a tombstone stays
// until the session would have expired, in one transaction.
func (ss Sessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := ss.s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		if _, err := q.ExecContext(ctx, `
			INSERT INTO revoked_sessions (token, expiry)
			VALUES (?, COALESCE((SELECT expiry FROM sessions WHERE token = ?), ?))
			ON CONFLICT (token) DO NOTHING`,
			token, token, millis(now.Add(revokedKeep))); err != nil {
			return nil, fmt.Errorf("store: revoke session: %w", err)
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE token = ?`, token); err != nil {
			return nil, fmt.Errorf("store: delete session: %w", err)
		}
		return nil, nil
	})
	// After the commit: a lookup that read the row before it cannot cache
	// it any more (see cache.gen).
	ss.s.cache.endSession(token)
	return err
}

// revokedKeep is how long a tombstone lasts for a token that had no row:
// one that was never stored can only come back through a request already
// in flight, which ends long before this.
const revokedKeep = 24 * time.Hour

// Find, Commit and Delete complete scs.Store for callers without a context.
func (ss Sessions) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit saves session data until expiry.
func (ss Sessions) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}

// Delete removes a session.
func (ss Sessions) Delete(token string) error {
	return ss.DeleteCtx(context.Background(), token)
}

// DeleteExpiredSessions removes sessions past their expiry and reports how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	now := millis(s.now())
	res, err := s.wq.ExecContext(ctx, `DELETE FROM sessions WHERE expiry <= ?`, now)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	if _, err := s.wq.ExecContext(ctx, `DELETE FROM revoked_sessions WHERE expiry <= ?`, now); err != nil {
		return 0, fmt.Errorf("store: delete expired tombstones: %w", err)
	}
	if _, err := s.wq.ExecContext(ctx, `DELETE FROM embed_nonces WHERE expiry <= ?`, now); err != nil {
		return 0, fmt.Errorf("store: delete expired nonces: %w", err)
	}
	return res.RowsAffected()
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// querier runs SQL through prepared statements cached by query text, so
// SQLite parses each statement once instead of on every call. Inside a
// transaction it binds the cached statement to it.
type querier struct {
	db    *sql.DB
	tx    *sql.Tx // nil outside a transaction
	cache *stmtCache
}

type stmtCache struct {
	// eng is the engine the statements are for (nil: SQLite itself); it
	// rewrites them, and statements are cached by their original text.
	eng   Engine
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
	// pending holds queries first seen inside a transaction: preparing them
	// there would need a second connection, which the single-connection
	// writer does not have. preparePending does it between transactions.
	pending map[string]bool
}

func newQuerier(db *sql.DB, eng Engine) querier {
	return querier{db: db, cache: &stmtCache{eng: eng, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}}}
}

// sql returns query as the engine runs it.
func (c *stmtCache) sql(query string) string {
	if c.eng == nil {
		return query
	}
	return c.eng.Rebind(query)
}

// in returns the querier for a transaction on the same database.
func (q querier) in(tx *sql.Tx) querier { return querier{db: q.db, tx: tx, cache: q.cache} }

// stmt returns the prepared statement for query, preparing it once. It
// returns nil when the query must run plainly this time: inside a
// transaction before it was prepared, or when preparing fails (the plain
// run then reports the same error).
func (q querier) stmt(ctx context.Context, query string) *sql.Stmt {
	q.cache.mu.RLock()
	st := q.cache.stmts[query]
	q.cache.mu.RUnlock()
	switch {
	case st != nil:
	case q.tx != nil:
		q.cache.mu.Lock()
		q.cache.pending[query] = true
		q.cache.mu.Unlock()
		return nil
	default:
		// Prepare without holding the lock: it may wait for the writer's one
		// connection, whose holder may itself be looking in the cache.
		var err error
		if st, err = q.db.PrepareContext(ctx, q.cache.sql(query)); err != nil {
			return nil
		}
		st = q.cache.keep(query, st)
	}
	if q.tx != nil {
		return q.tx.StmtContext(ctx, st)
	}
	return st
}

// keep caches st for query, or returns the statement another goroutine
// cached first (closing st).
func (c *stmtCache) keep(query string, st *sql.Stmt) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if prior := c.stmts[query]; prior != nil {
		st.Close()
		return prior
	}
	c.stmts[query] = st
	return st
}

func (q querier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	if q.tx != nil {
		return q.tx.QueryRowContext(ctx, q.cache.sql(query), args...)
	}
	return q.db.QueryRowContext(ctx, q.cache.sql(query), args...)
}

func (q querier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	if q.tx != nil {
		return q.tx.QueryContext(ctx, q.cache.sql(query), args...)
	}
	return q.db.QueryContext(ctx, q.cache.sql(query), args...)
}

func (q querier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	if q.tx != nil {
		return q.tx.ExecContext(ctx, q.cache.sql(query), args...)
	}
	return q.db.ExecContext(ctx, q.cache.sql(query), args...)
}

// insertedID runs insert, an INSERT of at most one row, and returns the new
// row's id, or found false if it inserted none (a conflict it was told to
// ignore, or a WHERE that held no row). On SQLite the id comes with the
// statement's result: RETURNING would have it keep the row in a temporary
// table and hand it back through a cursor, a fifth of the post's cost
// there. Other engines are asked to return it.
func (q querier) insertedID(ctx context.Context, insert string, args ...any) (id int64, found bool, err error) {
	if q.cache.eng != nil {
		err = q.QueryRowContext(ctx, insert+" RETURNING id", args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, false, nil
		}
		return id, err == nil, err
	}
	res, err := q.ExecContext(ctx, insert, args...)
	if err != nil {
		return 0, false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, false, err
	}
	id, err = res.LastInsertId()
	return id, err == nil, err
}

// preparePending prepares the queries first seen inside transactions; the
// writer calls it when no transaction is open.
func (q querier) preparePending(ctx context.Context) {
	q.cache.mu.Lock()
	var queries []string
	for query := range q.cache.pending {
		queries = append(queries, query)
	}
	clear(q.cache.pending)
	q.cache.mu.Unlock()
	for _, query := range queries {
		if st, err := q.db.PrepareContext(ctx, q.cache.sql(query)); err == nil {
			q.cache.keep(query, st)
		}
	}
}

// close releases every cached statement.
func (q querier) close() {
	q.cache.mu.Lock()
	defer q.cache.mu.Unlock()
	for _, st := range q.cache.stmts {
		st.Close()
	}
	q.cache.stmts = map[string]*sql.Stmt{}
}

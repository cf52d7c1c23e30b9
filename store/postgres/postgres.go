// Package postgres runs RT Messenger's store on PostgreSQL, for several
// nodes sharing one database. It is an engine for package store (see
// store.Engine): it opens the pools, keeps the schema (embedded
// migrations, applied under an advisory lock so nodes starting at once do
// not race), orders commits across nodes, and translates the store's
// statements. It does not import package store, so store's own tests,
// written once, run on both engines.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock keys (any two numbers no other program on the database
// uses): one serialises migrations, one orders write batches.
const (
	migrateLock = 0x72746d_01 // "rtm" 1
	commitLock  = 0x72746d_02
)

// Options configure Open.
type Options struct {
	// ReadConns sizes the read pool; zero means four per CPU (at least 8).
	ReadConns int
}

// Engine is a PostgreSQL database ready for store.OpenEngine.
type Engine struct {
	w, r    *sql.DB
	rebound sync.Map // statement → its PostgreSQL text
	// batchXact is the transaction id of the batch begun last, to ask
	// about when its COMMIT fails; only the store's writer uses it.
	batchXact int64
}

// IsURL reports whether a -db value names a PostgreSQL database rather
// than an SQLite file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url (postgres://…), applies pending
// migrations and returns the engine.
func Open(ctx context.Context, url string, opt Options) (*Engine, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, cfg); err != nil {
		return nil, err
	}
	w := stdlib.OpenDB(*cfg)
	// One writer connection: the store groups writes into its batches.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	r := stdlib.OpenDB(*cfg)
	n := opt.ReadConns
	if n <= 0 {
		n = max(8, 4*runtime.NumCPU())
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	e := &Engine{w: w, r: r}
	if err := w.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("postgres: connect: %w", err), e.Close())
	}
	return e, nil
}

// Pools returns the writer (one connection) and the read pool.
func (e *Engine) Pools() (writer, readers *sql.DB) { return e.w, e.r }

// BeginBatch takes the commit lock, held until the batch's transaction
// ends. Event ids come from a sequence, which hands them out at insert
// time, not at commit: without the lock, node A's id 104 could commit
// after node B's 105, and a stream that saw 105 and resumed "after 105"
// would never get 104. Under it, batches across nodes run one at a time,
// so ids become visible in order. Each node groups its writes into
// batches, so this costs one short wait per batch, not per write.
// It notes the batch's transaction id on the way (BatchCommitted).
func (e *Engine) BeginBatch(ctx context.Context, tx *sql.Tx) error {
	e.batchXact = 0
	return tx.QueryRowContext(ctx, `SELECT txid_current() FROM (SELECT pg_advisory_xact_lock($1)) AS locked`,
		int64(commitLock)).Scan(&e.batchXact)
}

// BatchCommitted reports whether the batch begun last committed, for when
// its COMMIT failed: the server may have committed it and lost the
// connection before answering. It asks on a read connection. A
// transaction still in progress ends soon (committed, or aborted once
// its server notices the connection gone): it asks again, for up to
// resolveFor.
func (e *Engine) BatchCommitted(ctx context.Context) (bool, error) {
	if e.batchXact == 0 {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, resolveFor)
	defer cancel()
	for {
		var status sql.NullString
		if err := e.r.QueryRowContext(ctx, `SELECT txid_status($1)`, e.batchXact).Scan(&status); err != nil {
			return false, err
		}
		if status.String != "in progress" {
			return status.String == "committed", nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(resolveEvery):
		}
	}
}

// resolveFor bounds how long BatchCommitted waits for a batch in
// progress; it asks every resolveEvery.
const (
	resolveFor   = 5 * time.Second
	resolveEvery = 20 * time.Millisecond
)

// NextEvent takes the next id from the messages sequence.
func (e *Engine) NextEvent() string {
	return `SELECT nextval(pg_get_serial_sequence('messages', 'id'))`
}

// LatestEvent reads the newest committed event id: under the commit lock
// every id below it has committed too. (The sequence itself would name
// ids still uncommitted.) It is never below the retention horizon: with
// every message up to it deleted, a page must still start from there, or
// replay would send it to reload again and again.
func (e *Engine) LatestEvent() string {
	return `SELECT GREATEST(
		(SELECT COALESCE(MAX(id), 0) FROM messages),
		COALESCE((SELECT changed FROM messages WHERE changed > 0 ORDER BY changed DESC LIMIT 1), 0),
		COALESCE((SELECT horizon FROM retention WHERE id = 1), 0))`
}

// Close closes both pools.
func (e *Engine) Close() error { return errors.Join(e.r.Close(), e.w.Close()) }

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, each in its own transaction with its record, while
// holding the migration lock: a second node starting at once waits, then
// finds nothing left to do.
func migrate(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLock))
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres: migrations table: %w", err)
	}
	applied := map[string]bool{}
	rows, err := conn.Query(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("postgres: read migrations: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("postgres: read migrations: %w", err)
	}
	for _, n := range names {
		applied[n] = true
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("postgres: list migrations: %w", err)
	}
	sort.Strings(files)
	known := map[string]bool{}
	for _, f := range files {
		name := strings.TrimPrefix(f, "migrations/")
		known[name] = true
		if applied[name] {
			continue
		}
		if err := apply(ctx, conn, f, name); err != nil {
			return fmt.Errorf("postgres: migrate %s: %w", name, err)
		}
	}
	for n := range applied {
		if !known[n] {
			return fmt.Errorf("postgres: the database has migration %s, which this build does not know: it is newer than this build", n)
		}
	}
	return nil
}

func apply(ctx context.Context, conn *pgx.Conn, file, name string) error {
	body, err := migrations.ReadFile(file)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// No arguments: the simple protocol, which runs every statement
		// of the file.
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name)
		return err
	})
}

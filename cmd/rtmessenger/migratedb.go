package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rtmessenger/rtmessenger/store"
	"github.com/rtmessenger/rtmessenger/store/postgres"
)

const migrateDBHelp = `Usage: rtmessenger migrate-db -from FILE.db -to postgres://…

Copies an SQLite database (the default -db) into an empty PostgreSQL
database, in one transaction: either everything arrives or nothing does.
Stop the server first: whatever it writes to the file while the copy runs
is not copied. The target's schema is created if missing; a target that
already holds users or messages is refused. Afterwards start the server
with -db set to the same postgres:// URL.

`

// migrateDB is the `migrate-db` command: it moves a stopped server's
// SQLite database into an empty PostgreSQL database (see migrateDBHelp).
func migrateDB(ctx context.Context, args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("rtmessenger migrate-db", flag.ContinueOnError)
	fl.SetOutput(stdout)
	from := fl.String("from", "", "the SQLite database file to copy (required)")
	to := fl.String("to", "", "the PostgreSQL database to fill, postgres://… (required)")
	fl.Usage = func() {
		fmt.Fprint(fl.Output(), migrateDBHelp)
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *from == "" || !postgres.IsURL(*to) || fl.NArg() > 0 {
		return errors.New("migrate-db: want -from FILE.db and -to postgres://… (see migrate-db -h)")
	}
	src, err := openSource(ctx, *from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openTarget(ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close(context.WithoutCancel(ctx))

	start := time.Now()
	res, err := copyDatabase(ctx, src, dst)
	if err != nil {
		return fmt.Errorf("migrate-db: nothing was copied to %s: %w", redactURL(*to), err)
	}
	// Fresh statistics, so the first queries after a bulk load plan well.
	if _, err := dst.Exec(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("migrate-db: copied, but ANALYZE failed: %w", err)
	}
	return report(stdout, *from, *to, res, time.Since(start))
}

// openSource opens the SQLite file for reading only. It refuses a missing
// file (SQLite would create an empty one) and a schema older or newer
// than this build's: the copy expects this build's columns.
func openSource(ctx context.Context, path string) (*sql.DB, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("migrate-db: -from %s: no such file", path)
	}
	if err != nil {
		return nil, fmt.Errorf("migrate-db: -from: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("migrate-db: -from %s: not a file", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("migrate-db: -from: %w", err)
	}
	// A file: URI, so that SQLite itself opens it read-only (mode=ro).
	u := url.URL{Scheme: "file", Path: abs, RawQuery: url.Values{
		"mode": {"ro"}, "_pragma": {"busy_timeout(10000)", "query_only(1)"},
	}.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("migrate-db: open %s: %w", path, err)
	}
	// One connection: every table is read in one transaction, one snapshot.
	db.SetMaxOpenConns(1)
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate-db: read %s: %w", path, err)
	}
	if want := store.SchemaVersion(); version != want {
		db.Close()
		if version < want {
			return nil, fmt.Errorf("migrate-db: %s has schema version %d, this build %d: start this build's server on it once (it upgrades the file), stop it, then migrate", path, version, want)
		}
		return nil, fmt.Errorf("migrate-db: %s has schema version %d, newer than this build's %d: use the build that wrote it", path, version, want)
	}
	return db, nil
}

// openTarget creates (or checks) the schema with the server's own
// migrations, then connects with pgx itself for COPY.
func openTarget(ctx context.Context, to string) (*pgx.Conn, error) {
	eng, err := postgres.Open(ctx, to, postgres.Options{ReadConns: 1})
	if err != nil {
		return nil, fmt.Errorf("migrate-db: -to %s: %w", redactURL(to), err)
	}
	if err := eng.Close(); err != nil {
		return nil, fmt.Errorf("migrate-db: -to %s: %w", redactURL(to), err)
	}
	conn, err := pgx.Connect(ctx, to)
	if err != nil {
		return nil, fmt.Errorf("migrate-db: -to %s: %w", redactURL(to), err)
	}
	return conn, nil
}

// report prints the rows copied per table, in copy order, and the time.
func report(stdout io.Writer, from, to string, res copyResult, took time.Duration) error {
	fmt.Fprintf(stdout, "migrate-db: copied %s into %s\n", from, redactURL(to))
	width := 0
	for _, t := range res.tables {
		width = max(width, len(t.name))
	}
	var total int64
	for _, t := range res.tables {
		fmt.Fprintf(stdout, "  %-*s %10d rows %8s\n", width, t.name, t.rows, t.took.Round(time.Millisecond))
		total += t.rows
	}
	for _, t := range res.cleared {
		fmt.Fprintf(stdout, "  (cleared %d leftover rows from %s first)\n", t.rows, t.name)
	}
	secs := max(took.Seconds(), 1e-6)
	_, err := fmt.Fprintf(stdout, "%d rows in %s (%.0f rows/s); stream event ids continue after %d\n",
		total, took.Round(time.Millisecond), float64(total)/secs, res.lastEvent)
	return err
}

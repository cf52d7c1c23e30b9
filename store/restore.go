package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrInUse is Restore's refusal to replace a database that is open.
var ErrInUse = errors.New("the database is in use")

// Restore replaces the SQLite database at path with the backup at from,
// for a server that has stopped. It checks the backup first (CheckBackup)
// and refuses while anything holds the database: a store (the lock file,
// which also keeps a server from starting until the restore is done), or
// any other SQLite connection (an older server, the sqlite3 shell: SQLite's
// own locks). The copy is made beside path, synced, and renamed over it,
// so path is the old database or the new one, never a mixture; the old
// database's write-ahead log and shared-memory files go first, as SQLite
// would otherwise apply that log to the restored file.
func Restore(ctx context.Context, from, path string) (BackupInfo, error) {
	info, err := CheckBackup(ctx, from)
	if err != nil {
		return info, fmt.Errorf("store: restore: nothing was changed: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return info, fmt.Errorf("store: restore: %w", err)
	}
	lock, err := lockDB(path, true)
	if errors.Is(err, errDBLocked) {
		return info, fmt.Errorf("store: restore: %w: a server or admin command has %s open (it holds %s); stop it, then restore", ErrInUse, path, dbLockPath(path))
	}
	if err != nil {
		return info, fmt.Errorf("store: restore: lock %s: %w", path, err)
	}
	if lock != nil {
		defer lock.Close()
	}
	latest, err := settle(ctx, path)
	if err != nil {
		return info, fmt.Errorf("store: restore: %w", err)
	}
	if err := replaceWith(ctx, from, path, latest); err != nil {
		return info, fmt.Errorf("store: restore: %s was not changed: %w", path, err)
	}
	return info, nil
}

// settle refuses if another SQLite connection has path open, and folds
// its write-ahead log into it otherwise, so that removing the log loses
// nothing should the restore stop half-way. In WAL mode every open
// connection holds a shared lock on the file, so taking the exclusive
// lock (busy_timeout 0: at once or not at all) fails while one does. A
// file SQLite cannot read at all (what a restore is for, at times) has no
// connections to fear, nor a log to keep.
func settle(ctx context.Context, path string) (latest int64, err error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	db, err := sql.Open("sqlite", fileURL(path, url.Values{
		"mode": {"rw"}, "_pragma": {"busy_timeout(0)", "locking_mode(EXCLUSIVE)"},
	}))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.ExecContext(ctx, "BEGIN EXCLUSIVE; ROLLBACK")
	if isBusy(err) {
		return 0, fmt.Errorf("%w: another process has %s open (an older server, or an sqlite3 shell?); close it, then restore", ErrInUse, path)
	}
	if unreadable(err) {
		return 0, nil
	}
	if err != nil {
		// Anything else (cancelled, an I/O error) must stop the restore:
		// going on without the old file's newest id could hand its ids out
		// again.
		return 0, fmt.Errorf("store: restore: reading %s: %w", path, err)
	}
	_, _ = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)") // best effort: the log is discarded next
	// A file without this app's tables (an empty one) has given out no
	// ids; any other failure to read them stops the restore as above.
	var counted bool
	err = db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence')`).Scan(&counted)
	if err == nil && counted {
		err = db.QueryRowContext(ctx, latestSQLiteEvent).Scan(&latest)
	}
	if err != nil {
		return 0, fmt.Errorf("store: restore: reading %s: %w", path, err)
	}
	return latest, nil
}

// unreadable reports whether err says the file is no SQLite database, or a
// damaged one.
func unreadable(err error) bool {
	code := primaryCode(err)
	return code == sqlite3.SQLITE_NOTADB || code == sqlite3.SQLITE_CORRUPT
}

func isBusy(err error) bool {
	code := primaryCode(err)
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// primaryCode is SQLite's primary result code in err (without the
// extended bits), or 0 if err is no SQLite error.
func primaryCode(err error) int {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return 0
	}
	return se.Code() & 0xff
}

// replaceWith copies the backup beside path (VACUUM INTO: the copy holds
// whatever log the backup had, as one file), moves its event ids past
// replaced (see continueIDs), syncs it, removes path's sidecar files and
// renames the copy over path.
func replaceWith(ctx context.Context, from, path string, replaced int64) error {
	src, err := openReadOnly(from)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp, err := emptyTemp(path)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // gone by then if it took path's name
	if _, err := src.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return fmt.Errorf("copy %s: %w", from, err)
	}
	if err := continueIDs(ctx, tmp, replaced); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil {
		if err := os.Chmod(tmp, fi.Mode().Perm()); err != nil {
			return err
		}
		sameOwner(tmp, fi)
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	for _, side := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(path + side); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// continueIDs makes the restored database hand out event ids above every
// one the replaced database did (replaced: its newest). Pages opened on
// the replaced data resume from such ids; were they handed out again, a
// page could resume past messages it never saw. What the replaced database
// held beyond the backup is lost, so the replay horizon moves past it too:
// those pages reload (replay resets them) instead of showing lost
// messages as if they were there.
func continueIDs(ctx context.Context, path string, replaced int64) error {
	db, err := sql.Open("sqlite", fileURL(path, url.Values{"mode": {"rw"}}))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var backup int64
	if err := db.QueryRowContext(ctx, latestSQLiteEvent).Scan(&backup); err != nil {
		return fmt.Errorf("continue event ids: %w", err)
	}
	if replaced <= backup {
		return nil
	}
	// One past the replaced database's ids: its pages hold ids below the
	// horizon, and a page opened now starts at it, which is not below.
	next := replaced + 1
	if _, err := db.ExecContext(ctx, `DELETE FROM sqlite_sequence WHERE name = 'messages'`); err != nil {
		return fmt.Errorf("continue event ids: %w", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO sqlite_sequence (name, seq) VALUES ('messages', ?)`, next); err != nil {
		return fmt.Errorf("continue event ids: %w", err)
	}
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'retention'`).Scan(&tables); err != nil || tables == 0 {
		return err // a backup from before retention: the server adds the table, empty
	}
	if err := raiseHorizon(ctx, db, next); err != nil {
		return fmt.Errorf("continue event ids: %w", err)
	}
	return nil
}

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
	"strings"
)

// Backups of the SQLite database, taken while servers use it, and
// restores of them once they have stopped.

// BackupInfo describes a backup file.
type BackupInfo struct {
	Path          string
	Bytes         int64
	SchemaVersion int
	// LatestEvent is the newest stream event id the copy holds: every
	// message committed before the backup began is in it.
	LatestEvent int64
}

// errDBLocked: the lock file is held the other way (dblock_*.go).
var errDBLocked = errors.New("lock file held")

// dbLockPath is the lock file beside the database: every store holds it
// shared while open, a restore exclusively while it replaces the file. A
// server starting during a restore would otherwise open the file about to
// be replaced, and go on writing into the discarded copy.
func dbLockPath(path string) string { return path + "-lock" }

// Backup copies the SQLite database at path to out while servers go on
// using it. VACUUM INTO reads one snapshot (WAL lets writers continue
// meanwhile) and writes a compact, self-contained file; the copy is
// written under a temporary name beside out, checked and synced before it
// takes out's name, so out is either complete or absent. An existing out
// is refused.
func Backup(ctx context.Context, path, out string) (BackupInfo, error) {
	if err := regularFile(path); err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: -db %w", err)
	}
	if _, err := os.Lstat(out); err == nil {
		return BackupInfo{}, fmt.Errorf("store: backup: %s exists: choose a new name (a backup never overwrites)", out)
	}
	src, err := openReadOnly(path)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	defer src.Close()
	tmp, err := emptyTemp(out)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	defer os.Remove(tmp) // gone by then if it took out's name
	if _, err := src.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: copy %s: %w", path, err)
	}
	info, err := CheckBackup(ctx, tmp)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: the copy failed its check: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	if _, err := os.Lstat(out); err == nil {
		return BackupInfo{}, fmt.Errorf("store: backup: %s appeared meanwhile: not overwritten", out)
	}
	if err := os.Rename(tmp, out); err != nil {
		return BackupInfo{}, fmt.Errorf("store: backup: %w", err)
	}
	info.Path = out
	return info, syncDir(filepath.Dir(out))
}

// CheckBackup opens a backup read-only and checks it: PRAGMA
// integrity_check passes, it holds RT Messenger's tables, and its schema
// is not newer than this build's.
func CheckBackup(ctx context.Context, path string) (BackupInfo, error) {
	info := BackupInfo{Path: path}
	if err := regularFile(path); err != nil {
		return info, err
	}
	db, err := openReadOnly(path)
	if err != nil {
		return info, err
	}
	defer db.Close()
	return info, checkCopy(ctx, db, &info)
}

func checkCopy(ctx context.Context, db *sql.DB, info *BackupInfo) error {
	problems, err := integrityProblems(ctx, db)
	if err != nil {
		return fmt.Errorf("%s: %w", info.Path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s is damaged (PRAGMA integrity_check): %s", info.Path, strings.Join(problems, "; "))
	}
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'messages')`).Scan(&tables); err != nil {
		return fmt.Errorf("%s: %w", info.Path, err)
	}
	if tables != 2 {
		return fmt.Errorf("%s is an SQLite database but not RT Messenger's (no users and messages tables)", info.Path)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&info.SchemaVersion); err != nil {
		return fmt.Errorf("%s: %w", info.Path, err)
	}
	if info.SchemaVersion > SchemaVersion() {
		return fmt.Errorf("%s has schema version %d, newer than this build's %d: use the build that wrote it", info.Path, info.SchemaVersion, SchemaVersion())
	}
	if err := db.QueryRowContext(ctx, latestSQLiteEvent).Scan(&info.LatestEvent); err != nil {
		return fmt.Errorf("%s: %w", info.Path, err)
	}
	fi, err := os.Stat(info.Path)
	if err != nil {
		return err
	}
	info.Bytes = fi.Size()
	return nil
}

// integrityProblems runs PRAGMA integrity_check: no problems is one row, "ok".
func integrityProblems(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	return problems, rows.Err()
}

// openReadOnly opens an existing SQLite file read-only: SQLite itself
// refuses writes (mode=ro) and never creates the file.
func openReadOnly(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", fileURL(path, url.Values{"mode": {"ro"}, "_pragma": {"busy_timeout(10000)"}}))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one connection, one snapshot
	return db, nil
}

// fileURL names an SQLite file as a file: URI, so that any path works
// (even one holding '?') and mode= applies.
func fileURL(path string, q url.Values) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

func regularFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no such file", path)
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a file", path)
	}
	return nil
}

// emptyTemp creates an empty file beside target, for VACUUM INTO (which
// accepts an existing file only if it is empty).
func emptyTemp(target string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	d.Close()
	if err != nil && !errors.Is(err, os.ErrInvalid) { // not every system syncs directories
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

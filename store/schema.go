package store

import (
	"context"
	"fmt"
	"io/fs"
)

// SchemaVersion is the SQLite schema version this build migrates a
// database to (its PRAGMA user_version): tools that read a database file
// directly, such as migrate-db, check it before trusting its tables.
func SchemaVersion() int {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	return len(names)
}

// CheckFileSchema opens the SQLite file at path read-only and refuses it
// unless its schema is this build's: a tool working beside a running
// server must not migrate the file under it (store.Open would), nor write
// to a schema it does not know. It never creates the file.
func CheckFileSchema(ctx context.Context, path string) error {
	if err := regularFile(path); err != nil {
		return err
	}
	db, err := openReadOnly(path)
	if err != nil {
		return err
	}
	defer db.Close()
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	switch want := SchemaVersion(); {
	case version == 0:
		return fmt.Errorf("%s holds no RT Messenger database yet: start the server on it first", path)
	case version < want:
		return fmt.Errorf("%s has schema version %d, this build %d: the server running on it is older; use its build, or upgrade the server first (it upgrades the file)", path, version, want)
	case version > want:
		return fmt.Errorf("%s has schema version %d, newer than this build's %d: use the build the server runs", path, version, want)
	}
	return nil
}

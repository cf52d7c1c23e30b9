package store

import "io/fs"

// SchemaVersion is the SQLite schema version this build migrates a
// database to (its PRAGMA user_version): tools that read a database file
// directly, such as migrate-db, check it before trusting its tables.
func SchemaVersion() int {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	return len(names)
}

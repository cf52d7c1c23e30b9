//go:build !unix

package store

import "os"

// lockDB has no lock file to take on this system: a restore relies on
// SQLite's own locks alone (see Restore).
func lockDB(path string, exclusive bool) (*os.File, error) { return nil, nil }

func sameOwner(file string, like os.FileInfo) {}

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rtmessenger/rtmessenger/store"
	"github.com/rtmessenger/rtmessenger/store/postgres"
)

// openStore opens the database -db names: a postgres:// URL is a
// PostgreSQL server (several nodes may share it); anything else is an
// SQLite file, created with its folder if missing.
func openStore(ctx context.Context, db string, opt store.Options) (*store.Store, error) {
	if postgres.IsURL(db) {
		eng, err := postgres.Open(ctx, db, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("-db %s: %w", redactURL(db), err)
		}
		return store.OpenEngine(ctx, eng, opt)
	}
	if strings.Contains(db, "://") {
		return nil, fmt.Errorf("-db %s: want an SQLite file path or a postgres:// URL", redactURL(db))
	}
	if err := os.MkdirAll(filepath.Dir(db), 0o750); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	return store.Open(ctx, db, opt)
}

package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/pgtest"
	"github.com/rtmessenger/rtmessenger/store/postgres"
)

// engineEnv chooses the database the store's tests run on: unset or
// "sqlite" for the embedded default, "postgres" for a fresh PostgreSQL
// database per test (internal/pgtest). `make test` runs them on both:
// they are the contract every engine keeps.
const engineEnv = "RTM_TEST_ENGINE"

func onPostgres() bool { return os.Getenv(engineEnv) == "postgres" }

// openEngine opens a store for t on the engine under test.
func openEngine(t testing.TB, opt Options) (*Store, error) {
	if !onPostgres() {
		return Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), opt)
	}
	eng, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{ReadConns: 4})
	if err != nil {
		return nil, err
	}
	return OpenEngine(context.Background(), eng, opt)
}

// sqliteOnly skips a test of SQLite's own machinery (files, WAL,
// checkpoints, its migrations) on another engine.
func sqliteOnly(t *testing.T) {
	t.Helper()
	if onPostgres() {
		t.Skip("tests SQLite's own machinery")
	}
}

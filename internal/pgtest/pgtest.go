// Package pgtest gives each test a database of its own on the PostgreSQL
// that tests run against. Without PostgreSQL a test skips with one clear
// line (and leaves a note for `make test` to print), except under CI=true
// or RTM_REQUIRE_POSTGRES=1, where it fails: CI runs every PostgreSQL test.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Env names the variable holding the URL of the PostgreSQL server for
// tests; its database is where test databases are created from.
const Env = "RTM_TEST_POSTGRES"

const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// notesEnv is where `make test` collects skip notes (browsertest.NotesEnv).
const notesEnv = "RTM_TEST_NOTES"

// URL creates an empty database for t, dropped when t ends, and returns
// its URL. It skips (or, where PostgreSQL is required, fails) t when no
// server answers.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		base = defaultURL
	}
	admin, err := sql.Open("pgx", base)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		admin.Close()
		why := fmt.Sprintf("postgres tests skipped: no PostgreSQL at %s (%v); start one or set %s", redact(base), err, Env)
		if required(os.Getenv) {
			t.Fatalf("%s, and PostgreSQL tests may not skip here (CI=true or RTM_REQUIRE_POSTGRES=1)", why)
		}
		leaveNote(t, why)
		t.Skip(why)
	}
	name := "rtmtest_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		// FORCE ends the connections a failed test may have left open.
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", Env, err)
	}
	u.Path = "/" + name
	return u.String()
}

// redact hides a password in a URL shown in a skip line.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// required reports whether a missing PostgreSQL must fail the test.
func required(getenv func(string) string) bool {
	if getenv("CI") == "true" {
		return true
	}
	ok, _ := strconv.ParseBool(getenv("RTM_REQUIRE_POSTGRES"))
	return ok
}

func leaveNote(t testing.TB, line string) {
	dir := os.Getenv(notesEnv)
	if dir == "" {
		return
	}
	f, err := os.CreateTemp(dir, "note-*.txt")
	if err != nil {
		t.Logf("pgtest: leave a note: %v", err)
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}

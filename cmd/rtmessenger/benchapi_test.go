package main

import (
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// benchOnly names what only the load generator (cmd/rtmbench) needs: bulk
// accounts, minted sessions, the old bench-users command. None of it may
// ship in the server, where it would be one flag away from a production
// database.
var benchOnly = []string{"MintSession", "EnsureUsers", "CommitSessions", "HashPassword", "benchUsers"}

func TestBinaryCarriesNoBenchmarkAPI(t *testing.T) {
	out, err := exec.Command("go", "tool", "nm", serverBinary(t)).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool nm: %v\n%s", err, out)
	}
	symbols := string(out)
	if !strings.Contains(symbols, "handlers.New") {
		t.Fatal("the symbol table lacks handlers.New: is this the server binary?")
	}
	for _, line := range strings.Split(symbols, "\n") {
		for _, name := range benchOnly {
			if strings.Contains(line, name) {
				t.Errorf("the server binary carries %s: %s", name, strings.TrimSpace(line))
			}
		}
	}
}

func TestBenchUsersIsNoCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bench.db")
	err := run(context.Background(), []string{"bench-users", "-db", db, "-count", "1"}, func(string) string { return "" }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `unknown command "bench-users"`) {
		t.Fatalf("bench-users: got %v, want an unknown command", err)
	}
}

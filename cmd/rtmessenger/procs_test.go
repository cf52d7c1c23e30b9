package main

import (
	"log/slog"
	"runtime"
	"testing"
)

func TestSyncFullRunsWithTwoPs(t *testing.T) {
	was := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(was)
	ensureProcs(false, slog.New(slog.DiscardHandler))
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("without -sync-full GOMAXPROCS became %d", n)
	}
	ensureProcs(true, slog.New(slog.DiscardHandler))
	if n := runtime.GOMAXPROCS(0); n != syncFullProcs {
		t.Fatalf("with -sync-full GOMAXPROCS is %d, want %d", n, syncFullProcs)
	}
}

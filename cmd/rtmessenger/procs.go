package main

import (
	"log/slog"
	"runtime"
)

// syncFullProcs is the fewest Ps the runtime gets with -sync-full. Every
// commit then waits in fsync, a blocking system call, on the writer's
// thread. With one P (a one-core machine or container) nothing else runs
// meanwhile until the runtime notices the call is slow and hands the P
// on, which under load is most of the time: on one core at 1,000 posts/s
// delivery p99 went from 48 ms to 172 ms. A second P lets the server
// serve while the writer waits (p99 51 ms, as without -sync-full); the
// waiting thread uses no CPU.
const syncFullProcs = 2

// ensureProcs raises GOMAXPROCS to syncFullProcs when syncFull needs it.
func ensureProcs(syncFull bool, log *slog.Logger) {
	if !syncFull {
		return
	}
	if n := runtime.GOMAXPROCS(0); n < syncFullProcs {
		runtime.GOMAXPROCS(syncFullProcs)
		log.Info("-sync-full: running with 2 Ps so that requests are served while a commit waits for the disk", "was", n)
	}
}

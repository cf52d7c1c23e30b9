package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// A reader in the log keeps SQLite from starting it over, and steady
// overlapping reads can put that moment off forever: without the
// truncating checkpoint the WAL file only grows. Here one reader holds its
// snapshot while the log grows past the limit (so it surely grows), and
// three more read all the time. The test runs the checkpoints itself (no
// ticker, no sleeps, no wall-clock window): once the held reader lets go,
// checkpointOnce must bring the log under the limit while the others read.
func TestSteadyReadsCannotGrowTheLogForever(t *testing.T) {
	const (
		limit  = 400 // pages
		rounds = 3
		// walFrame is a log frame's size: a 4 KiB page and its header.
		walFrame = 4096 + 24
		// A post adds at least one frame, so the log passes the limit
		// long before this many; more means something is broken.
		maxPosts = 10 * limit
		// A truncating checkpoint gives up after truncateWait when a
		// reader holds on; this many tries bound the wait on a machine
		// too loaded to let the readers finish.
		maxTries = 100
	)
	path := filepath.Join(t.TempDir(), "wal.db")
	s := openAt(t, path, Options{WALTruncateFrames: limit, manualCheckpoints: true})
	alice := mustUser(t, s, "alice")
	room := mustRoom(t, s, alice, "general")
	walSize := func() int64 {
		t.Helper()
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}

	ctx, stop := context.WithCancel(t.Context())
	var readers sync.WaitGroup
	for range 3 {
		readers.Go(func() {
			for ctx.Err() == nil {
				if _, _, err := s.History(ctx, room.ID, 0, 50); err != nil && ctx.Err() == nil {
					t.Errorf("a reader failed while the log was truncated: %v", err)
					return
				}
			}
		})
	}
	defer func() { stop(); readers.Wait() }()

	posts, tries := 0, 0
	for round := range rounds {
		release := holdSnapshot(t, s)
		// Grow the log past the limit, checkpointing as the ticker would
		// (passively, below the limit) every 20 posts.
		for walSize() < limit*walFrame {
			if posts++; posts > maxPosts {
				t.Fatalf("round %d: the log is %d KiB after %d posts, still under the limit", round, walSize()>>10, posts)
			}
			if _, err := s.PostMessage(ctx, room.ID, alice, fmt.Sprintf("message %d, padded to a realistic length for a chat line", posts), ""); err != nil {
				t.Fatalf("post: %v", err)
			}
			if posts%20 == 0 {
				if _, _, err := s.checkpointOnce(); err != nil {
					t.Fatalf("checkpoint: %v", err)
				}
			}
		}
		grown := walSize()
		// The held reader is in the log: truncation waits truncateWait
		// for it, then gives up until the next checkpoint.
		if frames, truncated, err := s.checkpointOnce(); err != nil || truncated || frames < limit {
			t.Fatalf("round %d: checkpoint under a held snapshot: %d frames, truncated %v, %v; want at least %d frames, not truncated",
				round, frames, truncated, err, limit)
		}
		release()
		for truncated := false; !truncated; {
			if tries++; tries > maxTries {
				t.Fatalf("round %d: %d checkpoints did not truncate a %d KiB log: the readers never let go of it", round, maxTries, grown>>10)
			}
			var err error
			if _, truncated, err = s.checkpointOnce(); err != nil {
				t.Fatalf("checkpoint: %v", err)
			}
		}
		if size := walSize(); size > limit*walFrame {
			t.Fatalf("round %d: the log is %d KiB after a truncating checkpoint, over the limit of %d KiB", round, size>>10, limit*walFrame>>10)
		}
		t.Logf("round %d: the log grew to %d KiB and was truncated to %d bytes", round, grown>>10, walSize())
	}
	t.Logf("%d posts; %d checkpoints to truncate the log %d times with readers in it", posts, tries, rounds)
}

// holdSnapshot starts a read transaction and keeps it until release: the
// log cannot start over, nor be truncated, while it is in there.
func holdSnapshot(t *testing.T, s *Store) (release func()) {
	t.Helper()
	tx, err := s.r.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow("SELECT COUNT(*) FROM messages").Scan(&n); err != nil { // a read transaction starts at its first read
		t.Fatal(err)
	}
	release = sync.OnceFunc(func() {
		if err := tx.Rollback(); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(release)
	return release
}

// Under steady writes the passive checkpoint never copies the frames
// committed while it runs, and the log only starts over once all are
// copied. settleWAL copies them on the writer's connection, between
// batches: the next commit starts the log over, with no truncation.
func TestSettlingLetsTheLogStartOver(t *testing.T) {
	sqliteOnly(t)
	var told atomic.Int32
	s := openAt(t, filepath.Join(t.TempDir(), "settle.db"), Options{manualCheckpoints: true, OnOutsideChange: func() { told.Add(1) }})
	alice := mustUser(t, s, "alice")
	room := mustRoom(t, s, alice, "general")
	if err := s.noticeOtherWriters(t.Context()); err != nil { // the baseline
		t.Fatal(err)
	}
	logFrames := func() int {
		t.Helper()
		var busy, frames, done int
		if err := s.ck.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done); err != nil {
			t.Fatal(err)
		}
		return frames
	}
	post := func(n int) {
		t.Helper()
		for i := range n {
			if _, err := s.PostMessage(t.Context(), room.ID, alice, fmt.Sprint("post ", i), ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	post(50)
	logFrames() // copies every frame, so the next commit starts the log over
	post(50)    // about 150 frames the checkpointer has not copied
	if err := s.settleWAL(); err != nil {
		t.Fatal(err)
	}
	post(1)
	// A post writes a few frames; without settling the log would still
	// hold the 50 before it too.
	if frames := logFrames(); frames > 20 {
		t.Fatalf("after settling, one post left a log of %d frames: the log did not start over", frames)
	}
	// The store's own settling is no outside change: the cache stays.
	if _, err := s.UserByID(t.Context(), alice.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.settleWAL(); err != nil {
		t.Fatal(err)
	}
	post(1)
	if err := s.noticeOtherWriters(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.cache.user(alice.ID); !ok || told.Load() != 0 {
		t.Fatalf("settling looked like another process's change (cached %v, told %d times)", ok, told.Load())
	}
}

// A checkpoint settles the log while it grows past a sixteenth of the
// truncation size, and not once it stopped growing.
func TestCheckpointsSettleAGrowingLog(t *testing.T) {
	sqliteOnly(t)
	s := openAt(t, filepath.Join(t.TempDir(), "grow.db"), Options{WALTruncateFrames: 16 * 40, manualCheckpoints: true})
	alice := mustUser(t, s, "alice")
	room := mustRoom(t, s, alice, "general")
	for i := range 30 { // over 40 frames
		if _, err := s.PostMessage(t.Context(), room.ID, alice, fmt.Sprint("post ", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if frames, truncated, err := s.checkpointOnce(); err != nil || truncated || frames < 40 || !s.walGrowing {
		t.Fatalf("a growing log of %d frames: truncated %v, settling %v, %v", frames, truncated, s.walGrowing, err)
	}
	if _, _, err := s.checkpointOnce(); err != nil || s.walGrowing {
		t.Fatalf("a log that stopped growing is settled again (%v, %v)", s.walGrowing, err)
	}
	// Copied in full (here the passive checkpoint alone would have done it:
	// TestSettlingLetsTheLogStartOver shows what settling adds), the log
	// starts over at the next commit.
	if _, err := s.PostMessage(t.Context(), room.ID, alice, "after", ""); err != nil {
		t.Fatal(err)
	}
	if frames, _, err := s.checkpointOnce(); err != nil || frames > 20 {
		t.Fatalf("the copied log did not start over: %d frames after one more post (%v)", frames, err)
	}
}

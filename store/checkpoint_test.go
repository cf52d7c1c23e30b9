package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Readers that always overlap keep SQLite from ever starting the log over;
// without the truncating checkpoint the WAL file only grows.
func TestSteadyReadsCannotGrowTheLogForever(t *testing.T) {
	const limit = 400 // pages
	path := filepath.Join(t.TempDir(), "wal.db")
	s, err := Open(context.Background(), path, Options{WALTruncateFrames: limit})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	alice := mustUser(t, s, "alice")
	room := mustRoom(t, s, alice, "general")
	wal := path + "-wal"

	ctx, stop := context.WithCancel(context.Background())
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

	var writers sync.WaitGroup
	largest, shrank := int64(0), false
	for w := range 2 {
		writers.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				if _, err := s.PostMessage(ctx, room.ID, alice, fmt.Sprintf("writer %d says %d, padded to a realistic length for a chat line", w, i), ""); err != nil && ctx.Err() == nil {
					t.Errorf("post: %v", err)
					return
				}
			}
		})
	}
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		fi, err := os.Stat(wal)
		if err != nil {
			continue
		}
		if fi.Size() < largest {
			shrank = true
		}
		largest = max(largest, fi.Size())
	}
	stop()
	writers.Wait()
	if !shrank {
		t.Fatalf("the log never shrank under steady reads; it reached %d KiB", largest>>10)
	}
	t.Logf("log peaked at %d KiB with a limit of %d KiB", largest>>10, limit*4)
}

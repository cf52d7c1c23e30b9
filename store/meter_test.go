package store

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/poll"
)

// meterLog records what a Meter hears.
type meterLog struct {
	mu          sync.Mutex
	batches     []int // writes per batch
	queued      []time.Duration
	took        []time.Duration
	checkpoints []bool // truncated or not
}

func (m *meterLog) Batch(writes int, queued, took time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches = append(m.batches, writes)
	m.queued = append(m.queued, queued)
	m.took = append(m.took, took)
}

func (m *meterLog) Checkpoint(took time.Duration, truncated bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checkpoints = append(m.checkpoints, truncated)
}

func (m *meterLog) seen() (batches []int, queued, took []time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int(nil), m.batches...), append([]time.Duration(nil), m.queued...), append([]time.Duration(nil), m.took...)
}

// Writes queued while the writer is busy share the next transaction, and
// the meter hears that batch's size and how long its oldest write waited.
func TestMeterHearsEachBatch(t *testing.T) {
	m := &meterLog{}
	s := openTest(t, Options{Meter: m})
	ctx := context.Background()
	release := make(chan struct{})
	holding := make(chan struct{})
	var writes sync.WaitGroup
	writes.Go(func() {
		if _, err := s.write(ctx, func(context.Context, querier, time.Time) ([]chat.Message, error) {
			close(holding)
			<-release
			return nil, nil
		}); err != nil {
			t.Error(err)
		}
	})
	<-holding // the writer is in a batch of one; what comes now queues
	const queued = 10
	for range queued {
		writes.Go(func() {
			if _, err := s.write(ctx, func(context.Context, querier, time.Time) ([]chat.Message, error) { return nil, nil }); err != nil {
				t.Error(err)
			}
		})
	}
	poll.Until(t, "the writes to queue", func() bool { return len(s.ops) == queued })
	close(release)
	writes.Wait()

	batches, waits, took := m.seen()
	if len(batches) != 2 || batches[0] != 1 || batches[1] != queued {
		t.Fatalf("batches of %v writes, want [1 %d]", batches, queued)
	}
	if waits[1] <= 0 || took[0] <= 0 || took[1] <= 0 {
		t.Fatalf("queued %v, took %v: every batch waits and takes some time", waits, took)
	}
}

func TestMeterHearsCheckpoints(t *testing.T) {
	m := &meterLog{}
	path := filepath.Join(t.TempDir(), "ck.db")
	s := openAt(t, path, Options{Meter: m, WALTruncateFrames: 1, manualCheckpoints: true})
	alice := mustUser(t, s, "alice")
	mustRoom(t, s, alice, "general")
	size, ok, err := s.WALSize()
	if err != nil || !ok || size == 0 {
		t.Fatalf("WAL size %d (%v, %v) after writes; want some bytes", size, ok, err)
	}
	if _, truncated, err := s.checkpointOnce(); err != nil || !truncated {
		t.Fatalf("checkpoint: truncated %v, %v; nothing held the log", truncated, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.checkpoints) != 1 || !m.checkpoints[0] {
		t.Fatalf("meter heard checkpoints %v, want one that truncated", m.checkpoints)
	}
	if size, _, _ := s.WALSize(); size != 0 {
		t.Fatalf("WAL size %d after a truncating checkpoint, want 0", size)
	}
}

func TestLiveSessions(t *testing.T) {
	clock := newTestClock()
	s := openTest(t, Options{Now: clock.now})
	ss := s.Sessions()
	ctx := context.Background()
	for token, expiry := range map[string]time.Duration{"a": time.Hour, "b": 2 * time.Hour, "c": time.Minute} {
		if err := ss.CommitCtx(ctx, token, []byte("d"), clock.now().Add(expiry)); err != nil {
			t.Fatal(err)
		}
	}
	if err := ss.DeleteCtx(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	clock.add(30 * time.Minute)
	if n, err := ss.Live(ctx); err != nil || n != 1 {
		t.Fatalf("live sessions %d (%v), want 1: one logged out, one expired", n, err)
	}
}

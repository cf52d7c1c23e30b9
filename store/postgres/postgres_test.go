package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/pgtest"
	"github.com/rtmessenger/rtmessenger/internal/poll"
	"github.com/rtmessenger/rtmessenger/store"
	"github.com/rtmessenger/rtmessenger/store/postgres"
)

func open(t *testing.T, url string) (*postgres.Engine, *store.Store) {
	t.Helper()
	eng, err := postgres.Open(t.Context(), url, postgres.Options{ReadConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenEngine(t.Context(), eng, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return eng, s
}

// Nodes starting at once each try to migrate: the lock lets one do it
// and the others find it done.
func TestNodesStartingAtOnceMigrateOnce(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			eng, err := postgres.Open(context.Background(), url, postgres.Options{ReadConns: 1})
			if err == nil {
				err = eng.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	eng, _ := open(t, url)
	_, r := eng.Pools()
	var applied, distinct int
	if err := r.QueryRow(`SELECT count(*), count(DISTINCT name) FROM schema_migrations`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("migrations/*.sql")
	if applied != len(files) || distinct != len(files) {
		t.Fatalf("%d migrations recorded (%d distinct), want each of the %d files once", applied, distinct, len(files))
	}
}

// The interleaving that loses a message with plain sequences: node A
// takes id N and has not committed when node B commits N+1. A stream
// that saw N+1 resumes "after N+1" and never gets N. Under the commit
// lock B's batch waits for A's, so no reader sees N+1 before N.
func TestNoReaderSeesALaterIDBeforeAnEarlierCommits(t *testing.T) {
	url := pgtest.URL(t)
	engA, _ := open(t, url)
	_, nodeB := open(t, url)
	ctx := t.Context()
	ann, err := nodeB.CreateUser(ctx, "ann", "hash")
	if err != nil {
		t.Fatal(err)
	}
	room, err := nodeB.CreateRoom(ctx, ann, "lobby", "")
	if err != nil {
		t.Fatal(err)
	}
	seen, err := nodeB.LatestID(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Node A's batch: lock taken as every batch takes it, a message
	// inserted, the transaction left open.
	writerA, readerA := engA.Pools()
	txA, err := writerA.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer txA.Rollback()
	if err := engA.BeginBatch(ctx, txA); err != nil {
		t.Fatal(err)
	}
	var idA int64
	if err := txA.QueryRowContext(ctx, `INSERT INTO messages (room_id, author_id, kind, body, created_at)
		VALUES ($1, $2, $3, 'from node A', 0) RETURNING id`, room.ID, ann.ID, chat.KindText).Scan(&idA); err != nil {
		t.Fatal(err)
	}

	posted := make(chan chat.Message, 1)
	go func() {
		m, err := nodeB.PostMessage(context.Background(), room.ID, ann, "from node B", "")
		if err != nil {
			t.Error(err)
		}
		posted <- m
	}()
	// Either B's batch queues behind A's (the lock), or B commits first:
	// the interleaving that loses A's message.
	var early *chat.Message
	poll.Until(t, "B's post to commit or wait for the commit lock", func() bool {
		select {
		case m := <-posted:
			early = &m
			return true
		default:
			return lockWaiters(readerA) > 0 // not writerA: txA holds its one connection
		}
	})
	if got := missed(t, nodeB, ann.ID, seen); early != nil || len(got) != 0 {
		t.Fatalf("while A's batch holds id %d a reader resuming after %d sees %v: resuming after those, it would never get %d",
			idA, seen, got, idA)
	}
	if err := txA.Commit(); err != nil {
		t.Fatal(err)
	}
	b := <-posted
	if b.ID <= idA {
		t.Fatalf("B's id %d is not after A's %d", b.ID, idA)
	}
	if got := missed(t, nodeB, ann.ID, seen); !slices.Equal(got, []int64{idA, b.ID}) {
		t.Fatalf("resuming after %d gives %v, want A's %d then B's %d", seen, got, idA, b.ID)
	}
}

// lockWaiters counts sessions waiting for an advisory lock: the other
// node's batch, queued behind the open one.
func lockWaiters(db *sql.DB) int {
	var waiting int
	if err := db.QueryRow(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting); err != nil {
		return 0
	}
	return waiting
}

func missed(t *testing.T, s *store.Store, user, after int64) []int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := s.Missed(ctx, user, after, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, m := range msgs {
		ids = append(ids, m.ID)
	}
	return ids
}

// What one node changes, another sees on its next read: a log-out there
// ends the session here, a deactivation there locks the account here.
func TestNodesSeeEachOthersChangesAtOnce(t *testing.T) {
	url := pgtest.URL(t)
	_, a := open(t, url)
	_, b := open(t, url)
	ctx := t.Context()
	admin, err := a.CreateUser(ctx, "admin", "hash")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := a.CreateUser(ctx, "bob", "hash")
	if err != nil {
		t.Fatal(err)
	}
	expiry := time.Now().Add(time.Hour)
	if err := a.Sessions().CommitCtx(ctx, "token-1", []byte("data"), expiry); err != nil {
		t.Fatal(err)
	}
	// B reads both, as a request there would, so a cache would hold them.
	if _, found, err := b.Sessions().FindCtx(ctx, "token-1"); err != nil || !found {
		t.Fatalf("node B does not find the session: %v, %v", found, err)
	}
	if u, err := b.UserByID(ctx, bob.ID); err != nil || u.Deactivated {
		t.Fatalf("node B reads bob as %+v, %v", u, err)
	}
	if err := a.Sessions().DeleteCtx(ctx, "token-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SetDeactivated(ctx, "bob", true, admin); err != nil {
		t.Fatal(err)
	}
	if _, found, err := b.Sessions().FindCtx(ctx, "token-1"); err != nil || found {
		t.Errorf("node B still finds the session node A ended (%v, %v)", found, err)
	}
	if u, err := b.UserByID(ctx, bob.ID); err != nil || !u.Deactivated {
		t.Errorf("node B still reads bob as active: %+v, %v", u, err)
	}
}

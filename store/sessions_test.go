package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A session deleted while other requests read it (missing the cache, so
// they read the row) and commit it (as a request that changed its data
// does) stays deleted: no read may cache it again and no commit may store
// it again.
func TestDeletedSessionStaysDeletedUnderConcurrentUse(t *testing.T) {
	s := openTest(t, Options{})
	ss := s.Sessions()
	ctx := context.Background()
	expiry := time.Now().Add(time.Hour)
	for round := range 100 {
		token := fmt.Sprintf("token-%d", round)
		if err := ss.CommitCtx(ctx, token, []byte("data"), expiry); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var users sync.WaitGroup
		for i := range 12 {
			users.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					s.cache.forgetSession(token) // every lookup reads the database
					if _, _, err := ss.FindCtx(ctx, token); err != nil {
						t.Error(err)
						return
					}
					if i%3 == 0 {
						if err := ss.CommitCtx(ctx, token, []byte("newer data"), expiry); err != nil {
							t.Error(err)
							return
						}
					}
				}
			})
		}
		if err := ss.DeleteCtx(ctx, token); err != nil {
			t.Fatal(err)
		}
		close(stop)
		users.Wait()
		if _, found, err := ss.FindCtx(ctx, token); err != nil || found {
			t.Fatalf("round %d: the deleted session is back (found %v, %v)", round, found, err)
		}
		var rows int
		if err := s.rq.QueryRowContext(context.Background(), `SELECT count(*) FROM sessions WHERE token = ?`, token).Scan(&rows); err != nil || rows != 0 {
			t.Fatalf("round %d: the deleted session was stored again (%d rows, %v)", round, rows, err)
		}
	}
}

// Tombstones go when the session would have expired anyway.
func TestExpiredTombstonesAreSwept(t *testing.T) {
	now := time.Now()
	var later atomic.Int64 // how far the clock has moved past now
	s := openTest(t, Options{Now: func() time.Time { return now.Add(time.Duration(later.Load())) }})
	ss := s.Sessions()
	ctx := context.Background()
	if err := ss.CommitCtx(ctx, "t1", []byte("d"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := ss.DeleteCtx(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		if err := s.rq.QueryRowContext(context.Background(), `SELECT count(*) FROM revoked_sessions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("%d tombstones, want 1", n)
	}
	if _, err := s.DeleteExpiredSessions(ctx); err != nil || count() != 1 {
		t.Fatalf("a live tombstone was swept (%v)", err)
	}
	later.Store(int64(2 * time.Hour))
	if _, err := s.DeleteExpiredSessions(ctx); err != nil || count() != 0 {
		t.Fatalf("an expired tombstone stayed (%v)", err)
	}
}

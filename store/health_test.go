package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/readonly"
)

// testClock moves only when told to.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2025, 3, 1, 12, 3, 4, 0, time.UTC)}
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer holds a store's log output for tests to count lines in.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines returns the log lines whose message is msg.
func (l *logBuffer) lines(msg string) []string {
	var out []string
	for line := range strings.Lines(l.String()) {
		if strings.Contains(line, `msg="`+msg+`"`) {
			out = append(out, line)
		}
	}
	return out
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// Health follows what people feel: while the database cannot be written
// it reports why and since when, and once a write succeeds it is well
// again. The failures that repeat every second (checkpoints) are logged
// once a minute, with a line when they end. The files are made read-only
// for real (readonly.Database) rather than by a fault injected in the driver.
func TestHealthFollowsWhetherWritesWork(t *testing.T) {
	cases := []struct {
		name   string
		atOpen bool   // the file is read-only when the store opens it
		want   string // the reason SQLite gives
		// checkpoints fail too: the log holds frames they cannot copy
		checkpointsFail bool
	}{
		// A read-only connection stays so: recovery needs the store to
		// replace its connections once the file is writable. The log is
		// empty (Close truncated it), so checkpoints have nothing to do.
		{name: "read-only from the start", atOpen: true, want: "attempt to write a readonly database"},
		// Writes to the log fail through descriptors opened before.
		{name: "read-only while open", want: "disk I/O error", checkpointsFail: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.atOpen {
				readonly.RequireOpenFiles(t)
			}
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "health.db")
			clk, logs := newTestClock(), &logBuffer{}
			opt := Options{Now: clk.now, Logger: logs.logger(), manualCheckpoints: true}
			var restore func()
			if tc.atOpen {
				s, err := Open(ctx, path, opt)
				if err != nil {
					t.Fatal(err)
				}
				mustUser(t, s, "alice")
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				restore = readonly.Database(t, path)
			}
			s := openAt(t, path, opt)
			if !tc.atOpen {
				mustUser(t, s, "alice")
				restore = readonly.Database(t, path)
			}

			clk.add(time.Hour) // the last write is long past: health must probe
			err := s.Health(ctx)
			if err == nil || !strings.Contains(err.Error(), "database not writable") || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), "since 2025-03-01T13:03:04Z") {
				t.Fatalf("health of a read-only database: %v; want it not writable since 13:03:04 with %q", err, tc.want)
			}
			if _, err := s.CreateUser(ctx, "bob", "h"); err == nil {
				t.Fatal("a write succeeded on a read-only database")
			}
			if tc.checkpointsFail {
				failCheckpoints(t, s, clk, 5)
				clk.add(time.Minute)
				failCheckpoints(t, s, clk, 1)
				if got := logs.lines("checkpoint failed"); len(got) != 2 || !strings.Contains(got[1], "suppressed=4") {
					t.Fatalf("6 failed checkpoints over a minute logged %d lines, want 2 (the second counting 4 left out):\n%s", len(got), logs)
				}
			}
			if got := logs.lines("database writes failing"); len(got) != 1 {
				t.Fatalf("failing writes logged %d lines, want 1:\n%s", len(got), logs)
			}

			restore()
			clk.add(healthFresh) // past the last failure's answer
			if err := s.Health(ctx); err != nil {
				t.Fatalf("health once the file is writable again: %v", err)
			}
			if _, _, err := s.checkpointOnce(); err != nil {
				t.Fatalf("checkpoint once the file is writable again: %v", err)
			}
			mustUser(t, s, "carol")
			for msg, want := range map[string]int{"database writes work again": 1, "checkpoints work again": btoi(tc.checkpointsFail)} {
				if got := logs.lines(msg); len(got) != want {
					t.Errorf("%q logged %d times, want %d:\n%s", msg, len(got), want, logs)
				}
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func failCheckpoints(t *testing.T, s *Store, clk *testClock, n int) {
	t.Helper()
	for range n {
		clk.add(time.Second)
		if _, _, err := s.checkpointOnce(); err == nil {
			t.Fatal("a checkpoint succeeded on a read-only database")
		}
	}
}

// Health checks cost the writer at most one small write a second, and none
// while other writes show it works.
func TestHealthChecksDoNotLoadTheWriter(t *testing.T) {
	clk := newTestClock()
	s := openTest(t, Options{Now: clk.now, manualCheckpoints: true})
	ctx := t.Context()
	mustUser(t, s, "alice")
	health := func() int64 {
		t.Helper()
		if err := s.Health(ctx); err != nil {
			t.Fatal(err)
		}
		batches, _ := s.Stats()
		return batches
	}
	before := health()
	clk.add(healthFresh / 2)
	for range 10 {
		if after := health(); after != before {
			t.Fatalf("health checks wrote %d times right after a write", after-before)
		}
	}
	clk.add(healthFresh)
	if after := health(); after != before+1 {
		t.Fatalf("a health check after %v of quiet wrote %d times, want once", healthFresh, after-before)
	}
	var probes sync.WaitGroup
	clk.add(healthFresh)
	for range 20 {
		probes.Go(func() {
			if err := s.Health(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	probes.Wait()
	if after := health(); after != before+2 {
		t.Fatalf("20 concurrent health checks wrote %d times, want once", after-before-1)
	}
}

// A writer that does not answer is reported as stalled when the caller's
// patience ends, and the check comes back once it answers.
func TestHealthReportsAStalledWriter(t *testing.T) {
	clk := newTestClock()
	s := openTest(t, Options{Now: clk.now, manualCheckpoints: true})
	started, release := make(chan struct{}), make(chan struct{})
	var blocker sync.WaitGroup
	blocker.Go(func() {
		s.write(context.Background(), func(context.Context, querier, time.Time) ([]chat.Message, error) {
			close(started)
			<-release
			return nil, nil
		})
	})
	<-started
	clk.add(healthFresh)
	ctx, cancel := context.WithCancel(t.Context())
	checked := make(chan error, 1)
	go func() { checked <- s.Health(ctx) }()
	waitUntil(t, "the health probe to queue behind the stuck write", func() bool { return len(s.ops) == 1 })
	cancel()
	if err := <-checked; err == nil || !strings.Contains(err.Error(), "database writes stalled") {
		t.Fatalf("health with a stuck writer: %v; want stalled", err)
	}
	close(release)
	blocker.Wait()
	if err := s.Health(t.Context()); err != nil {
		t.Fatalf("health once the writer answers: %v", err)
	}
}

// waitUntil polls cond until it holds, failing the test if it does not
// within ten seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

func TestRepeatLogSaysEachFailureOnceAMinute(t *testing.T) {
	logs := &logBuffer{}
	r := newRepeatLog(logs.logger(), "thing failed", "thing works again")
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		at    time.Duration
		fails bool
		want  string // the line logged, if any
	}{
		{at: 0, fails: true, want: `msg="thing failed" n=0 since=2025-03-01T12:00:00.000Z`},
		{at: time.Second, fails: true},
		{at: 59 * time.Second, fails: true},
		{at: time.Minute, fails: true, want: `msg="thing failed" n=3 suppressed=2 since=2025-03-01T12:00:00.000Z`},
		{at: 61 * time.Second, fails: true},
		{at: 70 * time.Second, want: `msg="thing works again" failures=5 since=2025-03-01T12:00:00.000Z lasted=1m10s`},
		{at: 71 * time.Second},
		{at: 72 * time.Second, fails: true, want: `msg="thing failed" n=7 since=2025-03-01T12:01:12.000Z`},
	}
	for i, st := range steps {
		before := logs.String()
		if st.fails {
			r.fail(t0.Add(st.at), "n", i)
		} else {
			r.ok(t0.Add(st.at))
		}
		got := strings.TrimPrefix(logs.String(), before)
		if st.want == "" && got != "" || !strings.Contains(got, st.want) {
			t.Fatalf("step %d (at %v): logged %q, want %q", i, st.at, got, st.want)
		}
	}
}

// openAt opens the store at path, closing it when the test ends.
func openAt(t *testing.T, path string, opt Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// diskFull is the error a server engine gives when its disk is full.
type diskFull struct{}

func (diskFull) Error() string    { return "could not extend file: No space left on device" }
func (diskFull) SQLState() string { return "53100" }

// On SQLite an op that finds the database unable to write fails its whole
// batch: SQLite may have rolled the transaction back already, and the ops
// after it would then each commit on their own while their callers hear
// the batch failed, so a resent post would find itself stored and never
// published. Nothing of the batch is stored, and every caller is told.
func TestAStorageFailureMidBatchFailsTheWholeBatch(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	ann := mustUser(t, s, "ann")
	room := mustRoom(t, s, ann, "lobby")
	post := func(body string) *op {
		return &op{done: make(chan struct{}), run: func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
			m, err := insertMessage(ctx, q, room.ID, ann, chat.KindText, body, "", now)
			return []chat.Message{m}, err
		}}
	}
	full := &op{done: make(chan struct{}), run: func(context.Context, querier, time.Time) ([]chat.Message, error) {
		return nil, diskFull{}
	}}
	batch := []*op{post("before"), full, post("after")}
	s.commit(batch) // the writer is idle: its connection is free
	msgs, _, err := s.History(ctx, room.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, m := range msgs {
		if m.Body == "before" || m.Body == "after" {
			stored++
		}
	}
	if onPostgres() {
		// A server engine keeps its transaction: the op's savepoint undid
		// it alone, and the others commit and are told so.
		if batch[0].err != nil || batch[2].err != nil || batch[1].err == nil || stored != 2 {
			t.Fatalf("errors %v / %v / %v, %d stored; want only the failing op refused", batch[0].err, batch[1].err, batch[2].err, stored)
		}
		return
	}
	for i, o := range batch {
		if o.err == nil || len(o.msgs) != 0 {
			t.Errorf("op %d: err %v, %d messages; want the batch's failure and none", i, o.err, len(o.msgs))
		}
	}
	if stored != 0 {
		t.Errorf("%d messages of a failed batch were stored", stored)
	}
}

// A COMMIT whose answer is lost (the server committed, then the connection
// dropped) is resolved by asking the server: the batch is published and
// its callers told it worked, or a resent post would find itself stored
// and never reach a stream. A COMMIT that truly failed stays a failure,
// and SQLite, which has no answer to lose, takes a failed COMMIT at its
// word.
func TestACommitWhoseAnswerIsLost(t *testing.T) {
	var seen committed
	s := openTest(t, Options{OnCommit: seen.add})
	ctx := context.Background()
	ann := mustUser(t, s, "ann")
	room := mustRoom(t, s, ann, "lobby")
	lost := errors.New("unexpected EOF")
	s.commitTx = func(tx *sql.Tx) error {
		if err := tx.Commit(); err != nil {
			return err
		}
		return lost
	}
	m, err := s.PostMessage(ctx, room.ID, ann, "committed after all", "")
	switch {
	case onPostgres() && (err != nil || seen.last().ID != m.ID):
		t.Fatalf("post whose COMMIT answer was lost: %v, last published %d; want it posted and published", err, seen.last().ID)
	case !onPostgres() && !errors.Is(err, lost):
		t.Fatalf("on SQLite a failed COMMIT gave %v, want its error", err)
	}

	s.commitTx = func(tx *sql.Tx) error {
		tx.Rollback()
		return lost
	}
	before := seen.last().ID
	if _, err := s.PostMessage(ctx, room.ID, ann, "never committed", ""); !errors.Is(err, lost) {
		t.Fatalf("a post whose batch rolled back gave %v, want the COMMIT's error", err)
	}
	if seen.last().ID != before {
		t.Fatal("a batch that did not commit was published")
	}
}

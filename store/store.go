// Package store keeps RT Messenger's data, the source of truth: in SQLite
// by default, or on a database server through an Engine (store/postgres).
// Writes go through one writer connection that groups concurrent requests
// into one transaction (group commit); reads use a separate pool, which WAL
// lets run beside the writer.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure Open.
type Options struct {
	// SyncFull selects synchronous=FULL: every commit is fsynced. The default,
	// NORMAL, is durable across process crashes but a power cut may lose the
	// last commits.
	SyncFull bool
	// ReadConns sizes the read pool; zero means one per CPU (at least 4).
	ReadConns int
	// OnCommit receives the messages of each committed batch in id order,
	// from the single writer goroutine. It must not block for long and must
	// not call back into the store's write methods.
	OnCommit func([]chat.Message)
	// OnReceipts receives the announcement receipts a batch changed, after
	// OnCommit got its messages, with the newest message id committed so
	// far: an event id that never skips a message. Same rules as OnCommit.
	OnReceipts func(lastID int64, receipts []chat.Receipt)
	// OnReads receives the read marks a batch moved, with where each
	// person now stands, after OnReceipts; lastID as for OnReceipts.
	OnReads func(lastID int64, reads []chat.ReadState)
	// OnOutsideChange, SQLite only, hears that another process (the admin
	// command line) committed to the file, once the store has dropped what
	// it cached: within a second of that commit, from the store's
	// checkpoint goroutine, so it must not block. The server has its open
	// streams' sessions checked then, not at their next heartbeat. It is
	// also called after the store opens a new writer connection, which
	// cannot tell what happened before it.
	OnOutsideChange func()
	Logger          *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// WALTruncateFrames is the write-ahead log size, in pages, at which it
	// is truncated (checkpoint.go); zero means 64 MiB worth.
	WALTruncateFrames int
	// Meter, if set, hears of every committed batch and checkpoint.
	Meter Meter

	// manualCheckpoints stops the background checkpointer; this package's
	// tests call checkpointOnce instead, so no test waits for a ticker.
	manualCheckpoints bool
}

// Store is the store. Its methods are safe for concurrent use.
type Store struct {
	w        *sql.DB // exactly one connection: SQLite allows one writer at a time
	r        *sql.DB
	eng      Engine   // nil: the embedded SQLite
	ck       *sql.DB  // SQLite only: one connection for background checkpoints
	lock     *os.File // SQLite only: the lock file, held shared (see dbLockPath)
	wq, rq   querier  // w and r through cached prepared statements
	cache    *cache
	watch    versionWatch // SQLite only: other processes' commits (watch.go)
	text     textIndex    // SQLite only: the search index's progress (textindex.go)
	ops      chan *op
	onCommit func([]chat.Message)
	// onReceipts and lastID: see Options.OnReceipts.
	onReceipts func(lastID int64, receipts []chat.Receipt)
	onReads    func(lastID int64, reads []chat.ReadState)
	onOutside  func() // see Options.OnOutsideChange
	lastID     atomic.Int64
	log        *slog.Logger
	now        func() time.Time
	meter      Meter  // nil: nothing measured
	path       string // the SQLite file; empty on an Engine

	mu      sync.RWMutex // guards closed against concurrent sends on ops
	closed  bool
	stopped chan struct{}

	batches, batchedOps atomic.Int64 // group-commit counters, for Stats

	stopCheckpoints, checkpointsDone chan struct{}
	walTruncateFrames                int
	// walFramesSeen and walGrowing are the checkpoint goroutine's: the
	// log's size at its last look, and whether it grew past settling.
	walFramesSeen int
	walGrowing    bool
	// dbFile is a plain handle on the SQLite file, only to fsync it
	// (settleWAL). Closing any handle on the file drops this process's
	// POSIX locks on it, SQLite's included, so it is closed only after
	// every connection is.
	dbFile *os.File

	// Health (health.go) and the log lines of failures that repeat.
	writes                                       writerHealth
	probe                                        prober
	writeLog, checkpointLog, largeLog, searchLog *repeatLog
	reconnect                                    bool // the writer's next batch needs a fresh connection; writer goroutine only
	// commitTx commits a batch: (*sql.Tx).Commit, but in tests of a
	// COMMIT whose answer is lost.
	commitTx func(*sql.Tx) error
}

// Stats reports how many write transactions committed and how many writes
// they carried: their ratio is the mean group-commit batch.
func (s *Store) Stats() (batches, ops int64) { return s.batches.Load(), s.batchedOps.Load() }

// Open opens (creating if needed) the SQLite database at path, applies
// pending migrations and starts the writer.
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("store: invalid database path %q", path)
	}
	lock, err := lockDB(path, false)
	if errors.Is(err, errDBLocked) {
		return nil, fmt.Errorf("store: %s is being restored (%s is held): start again once the restore is done", path, dbLockPath(path))
	}
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	w, r, ck, err := openSQLite(ctx, path, opt)
	if err != nil {
		return nil, errors.Join(err, closeFile(lock))
	}
	s := newStore(w, r, nil, opt)
	s.ck, s.path, s.lock = ck, path, lock
	// Read-write: Windows syncs no read-only handle. Without it, settling
	// syncs the file itself.
	s.dbFile, _ = os.OpenFile(path, os.O_RDWR, 0)
	if err := s.noticeOtherWriters(ctx); err != nil { // the baseline, before anything is cached
		return nil, errors.Join(err, s.closeSQLite())
	}
	if err := s.start(ctx); err != nil {
		return nil, errors.Join(err, s.closeSQLite())
	}
	if opt.manualCheckpoints {
		close(s.checkpointsDone)
	} else {
		go s.checkpointLoop()
	}
	return s, nil
}

// OpenEngine starts a store on eng, whose pools it closes on Close.
func OpenEngine(ctx context.Context, eng Engine, opt Options) (*Store, error) {
	w, r := eng.Pools()
	s := newStore(w, r, eng, opt)
	if err := s.start(ctx); err != nil {
		return nil, errors.Join(err, eng.Close())
	}
	close(s.checkpointsDone) // the server checkpoints by itself
	return s, nil
}

// writerBusyTimeout is how long the writer waits for another process's
// write (an admin command) to finish.
const writerBusyTimeout = 10 * time.Second

// openSQLite opens the writer (migrated), the read pool and the
// checkpointer's connection.
func openSQLite(ctx context.Context, path string, opt Options) (w, r, ck *sql.DB, err error) {
	sync := "NORMAL"
	if opt.SyncFull {
		sync = "FULL"
	}
	w, err = sql.Open("sqlite", dsn(path, url.Values{
		// Checkpoints run in the background (checkpoint.go), not inside the
		// commit that crosses the threshold, which would stall every writer.
		// A large page cache keeps the index pages the writer touches in
		// memory instead of re-reading them with a system call each.
		"_pragma": {fmt.Sprintf("busy_timeout(%d)", writerBusyTimeout.Milliseconds()), "journal_mode(WAL)", "foreign_keys(1)", "synchronous(" + sync + ")",
			"wal_autocheckpoint(0)", "cache_size(-65536)"},
		"_txlock": {"immediate"},
	}))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("store: open writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, nil, nil, err
	}
	r, err = sql.Open("sqlite", dsn(path, url.Values{
		"_pragma": {"busy_timeout(10000)", "foreign_keys(1)", "query_only(1)", "cache_size(-8192)"},
	}))
	if err != nil {
		w.Close()
		return nil, nil, nil, fmt.Errorf("store: open readers: %w", err)
	}
	n := opt.ReadConns
	if n <= 0 {
		n = max(8, 4*runtime.NumCPU())
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	// The checkpointer runs only passive checkpoints, which wait for nobody;
	// truncations run on the writer's connection (checkpoint.go).
	ck, err = sql.Open("sqlite", dsn(path, url.Values{"_pragma": {fmt.Sprintf("busy_timeout(%d)", truncateWait.Milliseconds())}}))
	if err != nil {
		w.Close()
		r.Close()
		return nil, nil, nil, fmt.Errorf("store: open checkpointer: %w", err)
	}
	ck.SetMaxOpenConns(1)
	return w, r, ck, nil
}

func newStore(w, r *sql.DB, eng Engine, opt Options) *Store {
	s := &Store{
		w: w, r: r, eng: eng, wq: newQuerier(w, eng), rq: newQuerier(r, eng), cache: newCache(eng != nil),
		stopCheckpoints: make(chan struct{}), checkpointsDone: make(chan struct{}),
		ops:        make(chan *op, 1024),
		onCommit:   opt.OnCommit,
		onReceipts: opt.OnReceipts,
		onReads:    opt.OnReads,
		onOutside:  opt.OnOutsideChange,
		log:        opt.Logger,
		now:        opt.Now,
		meter:      opt.Meter,
		stopped:    make(chan struct{}),
		commitTx:   (*sql.Tx).Commit,

		walTruncateFrames: opt.WALTruncateFrames,
	}
	if s.walTruncateFrames <= 0 {
		s.walTruncateFrames = defaultWALTruncateFrames
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.probe.turn = make(chan struct{}, 1)
	s.writeLog = newRepeatLog(s.log, "database writes failing", "database writes work again")
	s.checkpointLog = newRepeatLog(s.log, "checkpoint failed", "checkpoints work again")
	s.largeLog = newRepeatLog(s.log, "write-ahead log is large", "write-ahead log is no longer large")
	s.searchLog = newRepeatLog(s.log, "searching without the newest messages: the search index cannot catch up", "the search index catches up again")
	return s
}

// start reads where the event ids stand and starts the writer.
func (s *Store) start(ctx context.Context) error {
	var last int64
	if err := s.w.QueryRowContext(ctx, s.wq.cache.sql(s.latestEvent())).Scan(&last); err != nil {
		return fmt.Errorf("store: latest id: %w", err)
	}
	s.lastID.Store(last)
	go s.writeLoop()
	return nil
}

func dsn(path string, q url.Values) string {
	return path + "?" + q.Encode()
}

// Close stops the writer after it has finished every queued write, then
// closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.ops)
	}
	s.mu.Unlock()
	<-s.stopped
	close(s.stopCheckpoints)
	<-s.checkpointsDone
	s.rq.close()
	s.wq.close()
	if s.eng != nil {
		return s.eng.Close()
	}
	// Fold the log into the database so the next start reads a small WAL.
	// The HTTP server has drained by now, so nobody should hold it up; if
	// someone does, the next start simply reads a longer log.
	_, ckErr := s.truncateWAL()
	return errors.Join(ckErr, s.closeSQLite())
}

// closeSQLite closes the connections, then the files the store holds
// open: the plain handle on the database file only after every connection
// (closing it drops this process's locks on the file), the lock file last.
func (s *Store) closeSQLite() error {
	return errors.Join(s.ck.Close(), s.r.Close(), s.w.Close(), closeFile(s.dbFile), closeFile(s.lock))
}

// closeFile closes f if there is one.
func closeFile(f *os.File) error {
	if f == nil {
		return nil
	}
	return f.Close()
}

// migrate applies the embedded migrations newer than PRAGMA user_version,
// each in its own transaction together with the version bump. Foreign keys
// are off meanwhile, so a migration may rebuild a table others refer to;
// each transaction checks them all before it commits.
func migrate(ctx context.Context, db *sql.DB) error {
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("store: list migrations: %w", err)
	}
	sort.Strings(names)
	if len(names) < version {
		return fmt.Errorf("store: database schema version %d is newer than this build (%d)", version, len(names))
	}
	if len(names) == version {
		return nil
	}
	// The writer pool holds one connection, so the pragma applies to the
	// connection the migrations run on. (It is a no-op inside a transaction.)
	if _, err := db.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer db.ExecContext(ctx, "PRAGMA foreign_keys = ON")
	for i, name := range names[version:] {
		if err := applyMigration(ctx, db, name, version+i+1); err != nil {
			return fmt.Errorf("store: migrate %s: %w", name, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, name string, version int) error {
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	broken := rows.Next()
	rows.Close()
	if broken {
		return errors.New("foreign key check failed")
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version)); err != nil {
		return err
	}
	return tx.Commit()
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

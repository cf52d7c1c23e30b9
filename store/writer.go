package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// maxBatch caps how many queued writes share one transaction, so one commit
// never holds the replies of a long queue hostage.
const maxBatch = 256

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store: closed")

// txFunc is one unit of write work. It runs inside the batch transaction,
// under its own savepoint, and returns the messages it created (for OnCommit).
type txFunc func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error)

type op struct {
	run      txFunc
	single   bool // run makes at most one change, in one statement: no savepoint needed
	text     bool // run changes a message's text: new messages are indexed before it (textindex.go)
	msgs     []chat.Message
	receipts []chat.Receipt   // set by writeReceipts ops
	reads    []chat.ReadState // set by writeMark ops
	err      error
	done     chan struct{}
	queued   time.Time // when it was handed to the writer; set only for a Meter
}

// write queues run for the writer and waits until its batch has committed.
// The caller's ctx bounds only the wait for a place in the queue: once
// queued, the write happens even if the caller gives up (run gets the
// writer's own context), and the caller still learns its outcome.
func (s *Store) write(ctx context.Context, run txFunc) ([]chat.Message, error) {
	return s.submit(ctx, &op{run: run, done: make(chan struct{})})
}

// writeText is write for work that changes the text of messages.
func (s *Store) writeText(ctx context.Context, run txFunc) ([]chat.Message, error) {
	return s.submit(ctx, &op{run: run, text: true, done: make(chan struct{})})
}

// writeOne is write for work that changes at most one thing in one
// statement. SQLite undoes a failed statement by itself, so the op needs no
// savepoint of its own: two statements fewer on the hottest path.
func (s *Store) writeOne(ctx context.Context, run txFunc) ([]chat.Message, error) {
	return s.submit(ctx, &op{run: run, single: true, done: make(chan struct{})})
}

// writeReceipts is write for work that changes announcement receipts; they
// go to OnReceipts after the batch's messages went to OnCommit.
func (s *Store) writeReceipts(ctx context.Context, run func(ctx context.Context, q querier, now time.Time) ([]chat.Receipt, error)) error {
	o := &op{done: make(chan struct{})}
	o.run = func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		rs, err := run(ctx, q, now)
		if err == nil {
			o.receipts = rs
		}
		return nil, err
	}
	_, err := s.submit(ctx, o)
	return err
}

func (s *Store) submit(ctx context.Context, o *op) ([]chat.Message, error) {
	if err := s.enqueue(ctx, o); err != nil {
		return nil, err
	}
	// Once queued, the write runs whatever ctx says (the writer uses its own
	// context), so the caller waits for its outcome: a cancelled caller
	// must not report a failure for a row that committed, nor read what the
	// op's function captured while the writer is still filling it in.
	<-o.done
	return o.msgs, o.err
}

// enqueue hands o to the writer, waiting (as long as ctx allows) for room
// in its queue.
func (s *Store) enqueue(ctx context.Context, o *op) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if s.meter != nil {
		o.queued = time.Now()
	}
	select {
	case s.ops <- o:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) writeLoop() {
	defer close(s.stopped)
	batch := make([]*op, 0, maxBatch)
	for o := range s.ops {
		batch = append(batch[:0], o)
		batch = s.fill(batch)
		if len(batch) < maxBatch {
			// Let the requests already running reach the queue: a commit
			// costs about the same for one write as for thirty, and a
			// request that has its answer ready would otherwise wait a
			// whole commit for the next batch.
			runtime.Gosched()
			batch = s.fill(batch)
		}
		s.commit(batch)
	}
}

// fill adds what is queued, up to maxBatch, without waiting.
func (s *Store) fill(batch []*op) []*op {
	for len(batch) < maxBatch {
		select {
		case o, ok := <-s.ops:
			if !ok {
				return batch
			}
			batch = append(batch, o)
		default:
			return batch
		}
	}
	return batch
}

// commit runs a batch in one IMMEDIATE transaction. Each op gets a savepoint
// so one failing op (say, a non-member posting) does not undo the others.
func (s *Store) commit(batch []*op) {
	defer func() {
		for _, o := range batch {
			close(o.done)
		}
	}()
	ctx := context.Background()
	if s.reconnect {
		discardConn(s.w) // see wrote
		s.reconnect = false
	}
	var began time.Time
	if s.meter != nil {
		began = time.Now()
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		err = fmt.Errorf("store: begin: %w", err)
		failAll(batch, err)
		s.wrote(err)
		return
	}
	if s.eng != nil {
		if err := s.eng.BeginBatch(ctx, tx); err != nil {
			tx.Rollback()
			err = fmt.Errorf("store: begin batch: %w", err)
			failAll(batch, err)
			s.wrote(err)
			return
		}
	}
	// Stamped once the batch may commit: a batch that waited for other
	// nodes' must not carry a time earlier than theirs, as the replay
	// floor (ReplayFloor) takes times to rise with ids.
	now := s.now()
	q := s.wq.in(tx)
	if err := s.runBatch(ctx, q, batch, now); err != nil {
		tx.Rollback()
		s.text.end(false)
		failAll(batch, err)
		s.wrote(err)
		return
	}
	if err := s.commitTx(tx); err != nil && !s.committedAnyway(ctx, err) {
		s.text.end(false)
		err = fmt.Errorf("store: commit: %w", err)
		failAll(batch, err)
		s.wrote(err)
		return
	}
	s.text.end(true)
	s.wrote(storageFailureIn(batch))
	s.batches.Add(1)
	s.batchedOps.Add(int64(len(batch)))
	if s.meter != nil {
		// batch[0] is the oldest: the queue is first in, first out.
		s.meter.Batch(len(batch), began.Sub(batch[0].queued), time.Since(began))
	}
	s.wq.preparePending(ctx)
	s.published(batch)
}

// committedAnyway reports whether a batch whose COMMIT failed with err
// committed all the same (see commitResolver). Its connection is not
// trusted again either way.
func (s *Store) committedAnyway(ctx context.Context, err error) bool {
	s.reconnect = true
	r, ok := s.eng.(commitResolver)
	if !ok {
		return false
	}
	committed, rerr := r.BatchCommitted(ctx)
	if rerr != nil || !committed {
		return false
	}
	s.log.Warn("store: a batch committed although its COMMIT failed; published as committed", "err", err)
	return true
}

// runBatch runs each op of batch, and indexes new messages for search
// before an op that changes text and, if due, at the end (textindex.go).
// An error is one the whole batch must fail with.
func (s *Store) runBatch(ctx context.Context, q querier, batch []*op, now time.Time) error {
	indexed := s.eng == nil // a server engine indexes by itself
	for _, o := range batch {
		if o.text && indexed {
			if err := s.text.catchUp(ctx, q, now); err != nil {
				return err
			}
		}
		// A server engine aborts the whole transaction on a failed
		// statement: there every op needs its savepoint.
		if o.single && s.eng == nil {
			o.msgs, o.err = runSafely(ctx, q, o.run, now)
		} else {
			o.msgs, o.err = s.runOp(ctx, q, o.run, now)
		}
		if o.err != nil && ((s.eng == nil && storageFailure(o.err)) || errors.Is(o.err, errBatchBroken)) {
			// SQLite may have rolled the transaction back already (a full
			// disk, an I/O error), and the next ops would then commit one
			// by one while their callers were told they failed; or an
			// op's changes could not be undone. Fail it all. (A server
			// engine keeps the transaction: its savepoint undid the op.)
			return o.err
		}
	}
	if indexed && s.text.due(now) {
		return s.text.catchUp(ctx, q, now)
	}
	return nil
}

// wrote records how a batch ended, for Health and the log. It runs before
// the batch's callers are released, so a caller that waited for a write
// finds its outcome already recorded. After a storage failure the next
// batch starts on a fresh connection (discardConn): one opened while the
// database was read-only would stay read-only.
func (s *Store) wrote(err error) {
	now := s.now()
	s.writes.record(now, err)
	if err == nil {
		s.writeLog.ok(now)
		return
	}
	s.writeLog.fail(now, "err", err)
	s.reconnect = true
}

// storageFailureIn returns the first error in a committed batch that says
// the database itself cannot be written (storageFailure): on a server
// engine (a standby, a full disk) each statement fails while BEGIN and
// COMMIT succeed. On SQLite such an error fails the whole batch instead.
func storageFailureIn(batch []*op) error {
	for _, o := range batch {
		if o.err != nil && storageFailure(o.err) {
			return o.err
		}
	}
	return nil
}

// published hands a committed batch to the hooks: its messages in id order,
// then its receipts stamped with the newest message id committed so far
// (already handed over, so a stream resuming from it misses nothing).
func (s *Store) published(batch []*op) {
	var msgs []chat.Message
	var receipts []chat.Receipt
	var reads []chat.ReadState
	for _, o := range batch {
		if o.err != nil {
			continue
		}
		msgs = append(msgs, o.msgs...)
		receipts = append(receipts, o.receipts...)
		reads = append(reads, o.reads...)
	}
	for _, m := range msgs {
		if m.EventID() > s.lastID.Load() {
			s.lastID.Store(m.EventID()) // only this goroutine stores
		}
	}
	if len(msgs) > 0 && s.onCommit != nil {
		s.onCommit(msgs)
	}
	if len(receipts) > 0 && s.onReceipts != nil {
		s.onReceipts(s.lastID.Load(), mergeReceipts(receipts))
	}
	if len(reads) > 0 && s.onReads != nil {
		s.onReads(s.lastID.Load(), reads)
	}
}

// mergeReceipts keeps one receipt per announcement, the last (newest
// counts), with the changed recipients of all.
func mergeReceipts(rs []chat.Receipt) []chat.Receipt {
	at := map[int64]int{}
	var out []chat.Receipt
	for _, r := range rs {
		i, seen := at[r.AnnouncementID]
		if !seen {
			at[r.AnnouncementID] = len(out)
			out = append(out, r)
			continue
		}
		changed := append(out[i].Changed, r.Changed...)
		out[i] = r
		out[i].Changed = changed[:min(len(changed), chat.MaxChangedRecipients)]
	}
	return out
}

// errBatchBroken marks an op error after which the batch's transaction
// cannot be trusted: the op's own changes could not be undone or kept
// apart, so committing would store what its caller is told failed.
var errBatchBroken = errors.New("the batch cannot go on")

func (s *Store) runOp(ctx context.Context, q querier, run txFunc, now time.Time) (msgs []chat.Message, err error) {
	if _, err := q.ExecContext(ctx, "SAVEPOINT op"); err != nil {
		return nil, fmt.Errorf("store: savepoint: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: write panicked: %v", p)
		}
		if err != nil {
			msgs = nil
			if _, rerr := q.ExecContext(ctx, "ROLLBACK TO op"); rerr != nil {
				err = errors.Join(err, fmt.Errorf("store: rollback to savepoint: %w: %w", errBatchBroken, rerr))
			}
		}
		if _, rerr := q.ExecContext(ctx, "RELEASE op"); rerr != nil && err == nil {
			msgs, err = nil, fmt.Errorf("store: release savepoint: %w: %w", errBatchBroken, rerr)
		}
	}()
	return run(ctx, q, now)
}

// runSafely runs a single-statement op, turning a panic into its error.
func runSafely(ctx context.Context, q querier, run txFunc, now time.Time) (msgs []chat.Message, err error) {
	defer func() {
		if p := recover(); p != nil {
			msgs, err = nil, fmt.Errorf("store: write panicked: %v", p)
		}
	}()
	return run(ctx, q, now)
}

func failAll(batch []*op, err error) {
	for _, o := range batch {
		o.msgs, o.receipts, o.reads, o.err = nil, nil, nil, err
	}
}

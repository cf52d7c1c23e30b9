package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// changeShare is the share of workload 3e's actions that change a
// message: one in ten, an edit or a reaction in turn (5% each), at
// workload 3's rate of actions, so both put the same load on the server.
const changeShare = 0.1

// changeCounts counts the edits and reactions the counted streams got.
type changeCounts struct {
	edits, reactions atomic.Int64
	editLat          hist // from the edit's scheduled time to its arrival
}

func (c *changeCounts) reset() {
	c.edits.Store(0)
	c.reactions.Store(0)
	c.editLat.reset()
}

// posted is a message a workload posted, for a change to aim at.
type posted struct {
	id, room int64
	author   *account
}

// recentPosts keeps the newest posts of a workload.
type recentPosts struct {
	mu   sync.Mutex
	ring [256]posted
	n    int
}

func (r *recentPosts) add(p posted) {
	r.mu.Lock()
	r.ring[r.n%len(r.ring)] = p
	r.n++
	r.mu.Unlock()
}

// pick returns one of the 64 newest posts; false before the first.
func (r *recentPosts) pick() (posted, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return posted{}, false
	}
	back := rand.IntN(min(r.n, 64))
	return r.ring[(r.n-1-back)%len(r.ring)], true
}

// changers is how many edits and reactions may be in flight at once.
const changers = 16

// changeLoop changes recent posts at rate per second for d, on a fixed
// schedule as openLoop posts: in turn, the author of one edits it (the
// new text carries the edit's scheduled time, so its arrival is timed as
// a post's is), and a member of its room toggles a reaction on one. It
// reports the changes skipped because nothing was posted yet.
func changeLoop(ctx context.Context, ss *session, rate float64, d time.Duration, recent *recentPosts, edits, reacts *tally) (skipped int64) {
	var skips atomic.Int64
	jobs := make(chan job, 1<<12)
	var wg sync.WaitGroup
	for range changers {
		wg.Go(func() {
			for j := range jobs {
				p, ok := recent.pick()
				if !ok {
					skips.Add(1)
					continue
				}
				t := reacts
				if j.i%2 == 0 {
					t = edits
				}
				if !ss.change(ctx, j, p) {
					t.failed.Add(1)
					continue
				}
				t.ack(p.room)
			}
		})
	}
	feed(ctx, rate, d, jobs)
	wg.Wait()
	return skips.Load()
}

// change sends change j to p: for an even j an edit by its author, else
// a reaction by a member of its room. It reports whether it was accepted.
func (ss *session) change(ctx context.Context, j job, p posted) bool {
	msg := "/rooms/" + strconv.FormatInt(p.room, 10) + "/messages/" + strconv.FormatInt(p.id, 10)
	if j.i%2 == 0 {
		status, err := ss.p.post(ctx, p.author, msg+"/edit", url.Values{"body": {body(j.sched, j.i)}}, true)
		return err == nil && status == 200
	}
	members := ss.e.membersOf(p.room)
	emoji := chat.Reactions[int(j.i/2)%len(chat.Reactions)]
	status, err := ss.p.post(ctx, members[rand.IntN(len(members))], msg+"/reactions", url.Values{"emoji": {emoji}}, true)
	return err == nil && status == 204
}

// withChanges is workload 3e: the chat mix at the same rate of actions,
// 90 of every 100 of them posts, 5 edits and 5 reactions (the changes on
// their own schedule), and its deliveries (messages, edits and reactions)
// and message p99 compare with plain's: workload 3 (again) on the same
// server, just before.
func (ss *session) withChanges(ctx context.Context, r result, rate float64, d time.Duration, plain result) (result, error) {
	if err := ss.reset(ctx); err != nil {
		return r, err
	}
	t, edits, reacts := newTally(), newTally(), newTally()
	t.recent = &recentPosts{}
	m := ss.mark(ctx, posters+changers)
	skipped := make(chan int64, 1)
	go func() { skipped <- changeLoop(ctx, ss, rate*changeShare, d, t.recent, edits, reacts) }()
	openLoop(ctx, ss.p, rate*(1-changeShare), d, posters, ss.e.mixTarget, t, nil)
	skips := <-skipped
	ss.drain(t, 10*time.Second)
	ss.drainChanges(edits, reacts, 5*time.Second)
	ss.measure(&r, t, m)
	if n := edits.failed.Load() + reacts.failed.Load(); n > 0 {
		return r, fmt.Errorf("%d of %d edits and reactions failed", n, n+edits.total.Load()+reacts.total.Load())
	}
	c := &ss.changes
	r.PlainDeliveriesPerSec, r.PlainP99 = plain.DeliveriesPerSec, plain.P99
	r.EditsPerSec = round(float64(c.edits.Load())/r.Seconds, 0)
	r.ReactionsPerSec = round(float64(c.reactions.Load())/r.Seconds, 0)
	r.EditP50, r.EditP99 = ms(c.editLat.pct(50)), ms(c.editLat.pct(99))
	r.ChangesMissing = max(ss.expected(edits)-c.edits.Load(), 0) + max(ss.expected(reacts)-c.reactions.Load(), 0)
	r.Config += fmt.Sprintf("; %d edits and %d reactions acked, for %d and %d deliveries", edits.total.Load(), reacts.total.Load(), ss.expected(edits), ss.expected(reacts))
	if skips > 0 {
		r.Config += fmt.Sprintf(", %d skipped before the first post", skips)
	}
	all := r.DeliveriesPerSec + r.EditsPerSec + r.ReactionsPerSec
	r.Note = fmt.Sprintf("deliveries/s %.0f (messages, edits, reactions) vs %.0f in 3 again (%+.0f%%), message p99 %.2f vs %.2f ms (%+.0f%%); per s %.0f edits (p50 %.2f, p99 %.2f ms) + %.0f reactions delivered, %d missing",
		all, r.PlainDeliveriesPerSec, 100*(all/r.PlainDeliveriesPerSec-1),
		r.P99, r.PlainP99, 100*(r.P99/r.PlainP99-1), r.EditsPerSec, r.EditP50, r.EditP99, r.ReactionsPerSec, r.ChangesMissing)
	return r, nil
}

// drainChanges waits until every expected edit and reaction arrived, or
// timeout.
func (ss *session) drainChanges(edits, reacts *tally, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) &&
		(ss.changes.edits.Load() < ss.expected(edits) || ss.changes.reactions.Load() < ss.expected(reacts)) {
		time.Sleep(20 * time.Millisecond)
	}
}

package main

import (
	"context"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// target says who posts message i, and where.
type target func(i int64) (author *account, room int64)

type job struct {
	i     int64
	sched time.Time
}

// tally counts acknowledged posts (or changes) per room.
type tally struct {
	mu     sync.Mutex
	byRoom map[int64]int64
	failed atomic.Int64
	total  atomic.Int64
	recent *recentPosts // if set, posts are kept here for edits and reactions
}

func newTally() *tally { return &tally{byRoom: map[int64]int64{}} }

func (t *tally) ack(room int64) {
	t.mu.Lock()
	t.byRoom[room]++
	t.mu.Unlock()
	t.total.Add(1)
}

func (t *tally) get(room int64) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byRoom[room]
}

// posters is how many posts the open-loop workloads may have in flight at
// once, each on a connection of its own; fanoutPosters the same for the
// fan-out's steps.
const posters, fanoutPosters = 64, 32

// openLoop posts at rate per second for d, on a fixed schedule decided in
// advance: latency is measured from each post's scheduled time, so a slow
// server cannot hide its queueing by slowing the generator (no coordinated
// omission). postLat, if not nil, gets each POST's latency from schedule.
func openLoop(ctx context.Context, p *poster, rate float64, d time.Duration, workers int, pick target, t *tally, postLat *hist) {
	jobs := make(chan job, 1<<16)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				author, room := pick(j.i)
				form := url.Values{"body": {body(j.sched, j.i)}, "client_id": {"b" + strconv.FormatInt(j.sched.UnixNano(), 36) + "-" + strconv.FormatInt(j.i, 36)}}
				status, id, err := p.send(ctx, author, room, form, t.recent != nil)
				if err != nil || status != 200 {
					t.failed.Add(1)
					continue
				}
				if postLat != nil {
					postLat.add(time.Since(j.sched))
				}
				t.ack(room)
				if t.recent != nil {
					t.recent.add(posted{id: id, room: room, author: author})
				}
			}
		})
	}
	feed(ctx, rate, d, jobs)
	wg.Wait()
}

// feed hands out jobs at rate per second for d, each at its scheduled
// time, and closes jobs.
func feed(ctx context.Context, rate float64, d time.Duration, jobs chan<- job) {
	defer close(jobs)
	start := time.Now()
	n := int64(rate * d.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	for i := range n {
		sched := start.Add(time.Duration(i) * interval)
		if wait := time.Until(sched); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			return
		}
		jobs <- job{i: i, sched: sched}
	}
}

// closedLoop has workers post back to back for d and records each POST's
// round trip: the write path at full speed.
func closedLoop(ctx context.Context, p *poster, d time.Duration, workers int, pick target, t *tally, lat *hist) {
	deadline := time.Now().Add(d)
	var seq atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := seq.Add(1)
				author, room := pick(i)
				start := time.Now()
				form := url.Values{"body": {body(start, i)}, "client_id": {"w" + strconv.FormatInt(start.UnixNano(), 36) + "-" + strconv.FormatInt(i, 36)}}
				status, err := p.post(ctx, author, "/rooms/"+strconv.FormatInt(room, 10)+"/messages", form, true)
				if err != nil || status != 200 {
					t.failed.Add(1)
					continue
				}
				lat.add(time.Since(start))
				t.ack(room)
			}
		})
	}
	wg.Wait()
}

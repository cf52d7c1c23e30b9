package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// session is one workload's server processes (one node, or several
// sharing a database and a bus), with its streams.
type session struct {
	e         *env
	name      string  // for profile file names
	socket    bool    // readers use the WebSocket, not SSE
	srv       *server // the first node: the one profiled and asked for counters
	nodes     []*server
	p         *poster
	lat       *hist
	delivered atomic.Int64
	changes   changeCounts
	mu        sync.Mutex
	streams   []*stream
	base      int64 // the newest message id before the workload
	// With several nodes, latency to readers on the post's node apart from
	// that to readers on another, whose deliveries went over the bus.
	same, cross *hist
}

// open starts e's nodes (one unless e says more), each with extra flags.
func (e *env) open(ctx context.Context, name string, extra ...string) (*session, error) {
	ss := &session{e: e, name: name, lat: &hist{}}
	var urls []string
	for range max(e.nodes, 1) {
		srv, err := startServer(e.bin, e.db, append(slices.Clone(e.flags), extra...)...)
		if err != nil {
			ss.close()
			return nil, err
		}
		ss.nodes = append(ss.nodes, srv)
		urls = append(urls, srv.url)
	}
	ss.srv, ss.p = ss.nodes[0], newPoster(urls...)
	if len(ss.nodes) > 1 {
		ss.same, ss.cross = &hist{}, &hist{}
	}
	var err error
	if ss.base, err = latestID(ctx, ss.p, e.accts[0]); err != nil {
		ss.close()
		return nil, err
	}
	return ss, nil
}

func (ss *session) close() {
	for _, s := range ss.streams {
		s.close()
	}
	for _, srv := range ss.nodes {
		srv.stop()
	}
}

// nodeOf is the node that serves a.
func (ss *session) nodeOf(a *account) *server { return ss.nodes[a.node(len(ss.nodes))] }

// usage sums the nodes' CPU time and memory.
func (ss *session) usage() usage {
	var sum usage
	for _, srv := range ss.nodes {
		u, _ := srv.usage()
		sum.cpu += u.cpu
		sum.rss += u.rss
	}
	return sum
}

// onEvent counts a first delivery of a benchmark message and its latency,
// and edits and reactions apart from them.
func (ss *session) onEvent(s *stream, d delivery) {
	switch {
	case s.stalled:
	case d.kind == edit:
		ss.changes.edits.Add(1)
		ss.changes.editLat.add(d.at.Sub(d.sent))
	case d.kind == reaction:
		ss.changes.reactions.Add(1)
	case s.seen.add(d.id):
		ss.delivered.Add(1)
		lat := d.at.Sub(d.sent)
		ss.lat.add(lat)
		if ss.cross != nil {
			route := ss.same
			if ss.crossed(s, d.seq) {
				route = ss.cross
			}
			route.add(lat)
		}
	}
}

// crossed reports whether post seq reached s through another node, that
// is over the bus. Only the chat mix runs on several nodes: its target
// names the author, who posts to their own node.
func (ss *session) crossed(s *stream, seq int64) bool {
	n := len(ss.nodes)
	author, _ := ss.e.mixTarget(seq)
	return author.node(n) != s.acct.node(n)
}

// connect opens a stream for each account index (tabs streams each),
// 64 dials at a time.
func (ss *session) connect(ctx context.Context, idx []int, tabs int) error {
	var fns []func() error
	for _, i := range idx {
		for range tabs {
			fns = append(fns, func() error {
				dial := dialStream
				if ss.socket {
					dial = func(ctx context.Context, addr string, a *account, after, _ int64, seen *seenSet, on func(*stream, delivery)) (*stream, error) {
						return dialSocket(ctx, addr, a, after, seen, on)
					}
				}
				s, err := dial(ctx, ss.nodeOf(ss.e.accts[i]).addr, ss.e.accts[i], ss.base, 0, &seenSet{base: ss.base + 1}, ss.onEvent)
				if err != nil {
					return err
				}
				s.rooms = ss.e.roomsOf(i)
				ss.mu.Lock()
				ss.streams = append(ss.streams, s)
				ss.mu.Unlock()
				return nil
			})
		}
	}
	if err := parallel(64, fns); err != nil {
		return err
	}
	return ss.waitConns(ctx, len(ss.streams))
}

// waitConns waits until the nodes count n open streams between them.
func (ss *session) waitConns(ctx context.Context, n int) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		open := 0
		for _, srv := range ss.nodes {
			if v, err := srv.vars(ctx); err == nil {
				open += int(v["stream_conns"])
			}
		}
		if open == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("servers have %d streams, want %d", open, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// expected is how many deliveries the counted streams should get for the
// posts in t.
func (ss *session) expected(t *tally) int64 {
	var n int64
	for _, s := range ss.streams {
		if s.stalled {
			continue
		}
		for _, r := range s.rooms {
			n += t.get(r)
		}
	}
	return n
}

// drain waits until every expected delivery arrived, or timeout.
func (ss *session) drain(t *tally, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for ss.delivered.Load() < ss.expected(t) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// wire sums the bytes all streams have read.
func (ss *session) wire() int64 {
	var n int64
	for _, s := range ss.streams {
		n += s.wire.Load()
	}
	return n
}

// disorder sums duplicates and out-of-order arrivals over the streams.
func (ss *session) disorder() (dups, ooo int64) {
	for _, s := range ss.streams {
		s.seen.mu.Lock()
		dups += s.seen.dups
		ooo += s.seen.ooo
		s.seen.mu.Unlock()
	}
	return dups, ooo
}

// reset starts a new measurement: new latency histogram and counters, and
// message ids from now on.
func (ss *session) reset(ctx context.Context) error {
	base, err := latestID(ctx, ss.p, ss.e.accts[0])
	if err != nil {
		return err
	}
	ss.base = base
	ss.lat = &hist{}
	if ss.cross != nil {
		ss.same, ss.cross = &hist{}, &hist{}
	}
	ss.delivered.Store(0)
	ss.changes.reset()
	for _, s := range ss.streams {
		s.seen.reset(base + 1)
	}
	return nil
}

// profileDuring starts a CPU profile of the server for d when profiling is
// on; call the returned func when the measured work is done.
func (ss *session) profileDuring(ctx context.Context, d time.Duration) func() {
	if !ss.e.profile {
		return func() {}
	}
	name := strings.NewReplacer(" ", "-", "/", "-").Replace(ss.name)
	metrics := strings.TrimSuffix(ss.srv.debugURL, "debug/") + "metrics"
	ss.save(ctx, metrics, name+".metrics-before.txt")
	if resp, err := http.Get(ss.srv.debugURL + "contention?on=1"); err == nil {
		resp.Body.Close()
	}
	var all []<-chan error
	for kind, file := range map[string]string{"profile": ".cpu.pprof", "block": ".block.pprof", "mutex": ".mutex.pprof"} {
		all = append(all, ss.srv.profile(ctx, kind, d, filepath.Join(ss.e.out, name+file)))
	}
	return func() {
		for _, done := range all {
			if err := <-done; err != nil {
				fmt.Fprintln(os.Stderr, "profile:", err)
			}
		}
		ss.save(ctx, metrics, name+".metrics.txt")
	}
}

// snapshot saves an instant profile (heap, goroutine) of the server.
func (ss *session) snapshot(ctx context.Context, kind string) {
	name := strings.NewReplacer(" ", "-", "/", "-").Replace(ss.name)
	ss.save(ctx, ss.srv.debugURL+"pprof/"+kind, name+"."+kind+".pprof")
}

// save writes what the server's debug address answers at url into the
// output folder. With the profiles come the server's metrics (the
// writer's batch sizes and waits, the POST, relay and scheduling
// latencies): totals since that server started, so they include a
// warm-up and any earlier steps on it; those saved as the profile starts
// (.metrics-before.txt) are what to subtract.
func (ss *session) save(ctx context.Context, url, file string) {
	if err := fetchTo(ctx, url, filepath.Join(ss.e.out, file)); err != nil {
		fmt.Fprintln(os.Stderr, "save:", err)
	}
}

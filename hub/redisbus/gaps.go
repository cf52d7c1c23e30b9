package redisbus

import (
	"sync"
	"time"
)

// Lag is how late another node's op may reach this node while Redis is up:
// a stream here may get a newer event of this node's before an older one
// of another's. Replays reach this far back before the event a stream
// resumes from (see ReplayFrom).
const Lag = 5 * time.Second

// maxGaps bounds the remembered gaps; older ones are long caught up.
const maxGaps = 16

// gaps remembers when this node may have missed other nodes' ops: while
// its subscription was down, and the spans other nodes say they dropped
// ops in (the resync op carries them). Event ids do not help there: a
// stream here may have been sent newer ids of this node's meanwhile, so
// "replay after the last id I saw" would skip the others' older ones.
type gaps struct {
	mu   sync.Mutex
	past []span
	open time.Time // start of a gap still going on; zero when none
}

type span struct{ from, until time.Time }

// begin notes a gap starting at t (kept if one is already open).
func (g *gaps) begin(t time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open.IsZero() || t.Before(g.open) {
		g.open = t
	}
}

// end closes the open gap at t.
func (g *gaps) end(t time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open.IsZero() {
		return
	}
	g.remember(span{g.open, t})
	g.open = time.Time{}
}

// add records a gap another node reported.
func (g *gaps) add(from, until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.remember(span{from, until})
}

func (g *gaps) remember(s span) {
	g.past = append(g.past, s)
	if len(g.past) > maxGaps {
		g.past = g.past[1:]
	}
}

// replayFrom: see Bus.ReplayFrom.
func (g *gaps) replayFrom(made time.Time) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	from := made
	for _, s := range g.past {
		if !made.Before(s.from) && !made.After(s.until.Add(Lag)) && s.from.Before(from) {
			from = s.from
		}
	}
	if !g.open.IsZero() && !made.Before(g.open) && g.open.Before(from) {
		from = g.open
	}
	return from.Add(-Lag)
}

// ReplayFrom returns from when a stream resuming after an event made at
// made must be replayed, so that it gets every other node's event it may
// have missed: Lag before made, or before the start of a gap in what this
// node heard from the others that made falls in. (Events after the
// resume point are replayed anyway.) Since streams reconnect to any node,
// a node that lost ops tells the others the span (opResync), and they
// remember it too.
func (b *Bus) ReplayFrom(made time.Time) time.Time { return b.gaps.replayFrom(made) }

package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The typing and presence load of workload 3t, in the 1,000-member lobby.
const (
	typists     = 20               // lobby members who type (readers 900 to 919)
	typingEvery = 3 * time.Second  // a page's signal interval while typing
	typingCycle = 12 * time.Second // two signals, then quiet until the next burst
	typingShows = 6 * time.Second  // the server's TypingFor
	arrivals    = 40               // lobby members who arrive during 3t (960 to 999, offline before)
)

// mixThen runs workload 3, then 3t (withLive) and 3e (withChanges) on
// the same server and readers, so that their rows compare the same
// thing with and without typing and presence, or edits and reactions.
// 3t and 3e run after 3: anything that slows the server as a run goes on
// counts against them, never for them. It returns the rows it finished.
func mixThen(ctx context.Context, e *env, rate float64, d time.Duration, withLive, withChanges bool) ([]result, error) {
	plain := result{Name: "3 chat mix", Config: fmt.Sprintf("1,960 readers, 100 rooms × 20 + lobby × 1,000 (40 offline), %.0f posts/s", rate) + e.lobbyNote()}
	ss, err := e.open(ctx, plain.Name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", plain.Name, err)
	}
	defer ss.close()
	var readers []int
	for i := range roomCount * roomSize {
		if i < lobbySize-arrivals || i >= lobbySize {
			readers = append(readers, i)
		}
	}
	if err := ss.connect(ctx, readers, 1); err != nil {
		return nil, fmt.Errorf("%s: %w", plain.Name, err)
	}
	if err := ss.warmUp(ctx, &plain, rate); err != nil {
		return nil, fmt.Errorf("%s: %w", plain.Name, err)
	}
	if plain, err = ss.mix(ctx, plain, rate, d, 0); err != nil {
		return nil, fmt.Errorf("%s: %w", plain.Name, err)
	}
	rows := []result{plain}
	if withLive {
		live := result{Name: "3t chat mix + typing, presence",
			Config: fmt.Sprintf("workload 3 then, on its server: %d of its lobby readers typing in bursts, %d lobby members arriving", typists, arrivals) + e.lobbyNote()}
		if live, err = ss.live(ctx, live, rate, d, plain.P99); err != nil {
			return rows, fmt.Errorf("%s: %w", live.Name, err)
		}
		rows = append(rows, live)
	}
	if withChanges {
		// Workload 3 once more first: how much a repeat differs from the
		// first run (the server's state moves on, and a 2-core machine's
		// tail is noisy) is the yardstick for 3e's difference, which is
		// measured against this repeat, the run just before it.
		again := result{Name: "3 again (A/A control)", Config: plain.Config + "; right after 3, on its server"}
		if err := ss.reset(ctx); err != nil {
			return rows, fmt.Errorf("%s: %w", again.Name, err)
		}
		if again, err = ss.mix(ctx, again, rate, d, 0); err != nil {
			return rows, fmt.Errorf("%s: %w", again.Name, err)
		}
		again.Note = fmt.Sprintf("vs 3: deliveries/s %+.0f%%, p99 %.2f vs %.2f ms (%+.0f%%)",
			100*(again.DeliveriesPerSec/plain.DeliveriesPerSec-1), again.P99, plain.P99, 100*(again.P99/plain.P99-1))
		rows = append(rows, again)
		changes := result{Name: "3e chat mix + edits, reactions",
			Config: fmt.Sprintf("workload 3 then, on its server: %.0f posts/s and %.0f edits + %.0f reaction toggles/s of recent posts", rate*(1-changeShare), rate*changeShare/2, rate*changeShare/2) + e.lobbyNote()}
		if changes, err = ss.withChanges(ctx, changes, rate, d, again); err != nil {
			return rows, fmt.Errorf("%s: %w", changes.Name, err)
		}
		rows = append(rows, changes)
	}
	return rows, nil
}

// live is mix with typing and presence on top (workload 3t). 20 lobby
// members type in bursts (a signal every 3 s, twice, then quiet: typing
// starts and expires several times a second, so the lobby's typing event
// goes out at its bound, once a second, from the start), and 40 lobby
// members who were offline arrive, one every 1/40 of the window, so every
// presence flush (3 s) has news for the lobby.
func (ss *session) live(ctx context.Context, r result, rate float64, d time.Duration, p99Without float64) (result, error) {
	stop := startLiveLoad(ctx, ss, ss.e, d+2*time.Second) // arrivals until the window ends
	time.Sleep(time.Second)                               // the first flushes of the steady state
	if err := ss.reset(ctx); err != nil {
		stop()
		return r, err
	}
	t := newTally()
	m := ss.mark(ctx, posters+typists)
	before := ss.liveCounts()
	openLoop(ctx, ss.p, rate, d, posters, ss.e.mixTarget, t, nil)
	c := ss.liveCounts().minus(before)
	window := time.Since(m.at)
	if sent, failed := stop(); failed > 0 {
		return r, fmt.Errorf("%d of %d typing signals and page opens failed", failed, sent)
	}
	ss.drain(t, 10*time.Second)
	ss.measure(&r, t, m)
	r.P99Without = p99Without
	n, lobby := float64(len(ss.streams))*window.Seconds(), float64(lobbySize-arrivals)*window.Seconds()
	r.TypingPerConn = round(float64(c.typing)/n, 2)
	r.PresencePerConn = round(float64(c.presence)/n, 2)
	r.Note = fmt.Sprintf("p99 %.2f ms vs %.2f ms without (%+.0f%%); per reader %.2f typing + %.2f presence events/s (lobby members %.2f + %.2f)",
		r.P99, r.P99Without, 100*(r.P99/r.P99Without-1), r.TypingPerConn, r.PresencePerConn,
		float64(c.lobbyTyping)/lobby, float64(c.lobbyPresence)/lobby)
	return r, nil
}

type liveCounts struct{ typing, presence, lobbyTyping, lobbyPresence int64 }

func (a liveCounts) minus(b liveCounts) liveCounts {
	return liveCounts{a.typing - b.typing, a.presence - b.presence, a.lobbyTyping - b.lobbyTyping, a.lobbyPresence - b.lobbyPresence}
}

// liveCounts sums the typing and presence events the streams received.
func (ss *session) liveCounts() liveCounts {
	var c liveCounts
	for _, s := range ss.streams {
		ty, pr := s.typing.Load(), s.presence.Load()
		c.typing += ty
		c.presence += pr
		for _, room := range s.rooms {
			if room == ss.e.layout.Lobby {
				c.lobbyTyping += ty
				c.lobbyPresence += pr
			}
		}
	}
	return c
}

// startLiveLoad sends typing signals from lobby members, and brings the
// arrivals in over d, until the returned stop is called; stop reports how
// many signals and arrivals were sent and failed.
func startLiveLoad(ctx context.Context, ss *session, e *env, d time.Duration) (stop func() (sent, failed int64)) {
	ctx, cancel := context.WithCancel(ctx)
	var sent, failed atomic.Int64
	var wg sync.WaitGroup
	signal := func(a *account, path string) {
		status, err := ss.p.post(ctx, a, path, nil, true)
		if ctx.Err() != nil {
			return
		}
		sent.Add(1)
		if err != nil || status != 204 {
			failed.Add(1)
		}
	}
	lobby := "/rooms/" + strconv.FormatInt(e.layout.Lobby, 10)
	for i := range typists {
		a := e.accts[900+i]
		phase := time.Duration(i) * typingCycle / typists
		wg.Go(func() {
			// In the steady state from the start: phase into its cycle, one
			// whose typing shows says so at once.
			if phase < typingEvery+typingShows {
				signal(a, lobby+"/typing")
			}
			at, second := typingCycle-phase, false // the next signal, and whether it ends a burst
			if phase < typingEvery {
				at, second = typingEvery-phase, true
			}
			for sleep(ctx, at) {
				signal(a, lobby+"/typing")
				if second {
					at, second = typingCycle-typingEvery, false
				} else {
					at, second = typingEvery, true
				}
			}
		})
	}
	for i := range arrivals {
		a := e.accts[lobbySize-arrivals+i]
		wg.Go(func() {
			if !sleep(ctx, time.Duration(i)*d/arrivals) {
				return
			}
			// A page opens with the newest id it was rendered with.
			s, err := dialStream(ctx, ss.nodeOf(a).addr, a, ss.newestSeen(), 0, &seenSet{}, func(*stream, delivery) {})
			sent.Add(1)
			if err != nil {
				if ctx.Err() == nil {
					failed.Add(1)
				}
				return
			}
			<-ctx.Done()
			s.close()
		})
	}
	return func() (int64, int64) {
		cancel()
		wg.Wait()
		return sent.Load(), failed.Load()
	}
}

// newestSeen is the newest message id any reader has had.
func (ss *session) newestSeen() int64 {
	var n int64
	for _, s := range ss.streams {
		n = max(n, s.lastID.Load())
	}
	return n
}

// sleep waits d and reports whether ctx is still going.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

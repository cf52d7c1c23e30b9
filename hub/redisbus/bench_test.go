package redisbus

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/poll"
	"github.com/rtmessenger/rtmessenger/internal/redistest"
)

// arrivals is a Local that only notes when each published event arrives.
type arrivals struct{ at chan time.Time }

func (a *arrivals) Publish(room, id int64, data []byte) { a.at <- time.Now() }
func (a *arrivals) PublishExcept(room, except, id int64, data []byte) int {
	return 0
}
func (a *arrivals) PublishTo(user, id int64, data []byte) bool            { return false }
func (a *arrivals) PublishSidebar(user, room, id int64, data []byte) bool { return false }
func (a *arrivals) Join(room, user int64)                                 {}
func (a *arrivals) Leave(room, user int64)                                {}
func (a *arrivals) EndSession(user int64, session string)                 {}
func (a *arrivals) Disconnect(user int64)                                 {}
func (a *arrivals) SetLight(user int64, on bool)                          {}
func (a *arrivals) Typing(room, user int64, name string) bool             { return true }
func (a *arrivals) StoppedTyping(room, user int64)                        {}
func (a *arrivals) Here() []chat.Seen                                     { return nil }
func (a *arrivals) Elsewhere(seen []chat.Seen, until time.Time)           {}

// benchBuses starts a sending and a receiving bus on one channel.
func benchBuses(b *testing.B) (from *Bus, to *arrivals) {
	addr, channel := redistest.Addr(b), redistest.Channel(b)
	to = &arrivals{at: make(chan time.Time, 1<<16)}
	var buses []*Bus
	for _, local := range []Local{&arrivals{at: make(chan time.Time, 1<<16)}, to} {
		// A queue for the whole burst: by design a full queue drops ops.
		bus, err := New(Options{URL: "redis://" + addr + "/0?channel=" + channel, Local: local,
			CatchUp: func(context.Context) error { return nil }, QueueSize: max(b.N, 8192)})
		if err != nil {
			b.Fatal(err)
		}
		bus.Start()
		b.Cleanup(func() { bus.Close(context.Background()) })
		buses = append(buses, bus)
	}
	poll.Until(b, "both buses healthy", func() bool { return buses[0].Health() == nil && buses[1].Health() == nil })
	return buses[0], to
}

// One event at a time: how long a message published on one node takes
// to reach the other's hub through Redis.
func BenchmarkCrossNodeLatency(b *testing.B) {
	from, to := benchBuses(b)
	data := make([]byte, 600) // a rendered message fragment
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		from.Publish(1, int64(i+1), data)
		lat = append(lat, (<-to.at).Sub(start))
	}
	report(b, lat)
}

// Back to back: the rate one node's events reach another at, the sender
// pipelining whatever queued up. Latency here is mostly queueing.
func BenchmarkCrossNodeBurst(b *testing.B) {
	from, to := benchBuses(b)
	data := make([]byte, 600)
	b.ResetTimer()
	for i := range b.N {
		from.Publish(1, int64(i+1), data)
	}
	for range b.N {
		<-to.at
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// At a steady 10,000 events a second (10 every millisecond, open loop):
// each event's latency from publish to the other node's hub.
func BenchmarkCrossNodeAt10k(b *testing.B) {
	from, to := benchBuses(b)
	data := make([]byte, 600)
	sent := make([]time.Time, b.N)
	arrived := make([]time.Time, 0, b.N)
	done := make(chan struct{})
	b.ResetTimer()
	go func() {
		defer close(done)
		for range b.N {
			arrived = append(arrived, <-to.at)
		}
	}()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for i := 0; i < b.N; {
		for end := min(i+10, b.N); i < end; i++ {
			sent[i] = time.Now()
			from.Publish(1, int64(i+1), data)
		}
		<-tick.C
	}
	<-done
	lat := make([]time.Duration, b.N)
	for i := range lat {
		lat[i] = arrived[i].Sub(sent[i])
	}
	report(b, lat)
}

func report(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

package hub

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Each connection has its own queue: one stalled tab of a user is cut off
// alone, and the user's other tab keeps getting every message.
func TestAStalledTabIsCutAloneAndItsSiblingKeepsGoing(t *testing.T) {
	meter := &countingMeter{}
	rg := newRig(t, Options{QueueSize: 4, WriteTimeout: 10 * time.Second, Meter: meter})
	rg.hub.Join(10, 1)
	stalled, err := net.Dial("tcp", rg.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	stalled.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(stalled, "GET /events?session=s HTTP/1.1\r\nHost: x\r\nX-User: 1\r\n\r\n")
	sibling := rg.connect(1, "?session=s")
	rg.waitConns(2)

	big := []byte(strings.Repeat("x", 32<<10))
	for id := int64(1); id <= 400; id++ {
		rg.hub.Publish(10, id, big)
		if ev := sibling.next(t); ev.IntID() != id {
			t.Fatalf("sibling tab got %s, want %d", ev.ID, id)
		}
	}
	rg.waitConns(1)
	if m := meter.snapshot(); m.cut["queue_full"] != 1 || m.open["sse"] != 1 || m.delivered < 400 {
		t.Fatalf("metered %+v: want one cut-off for a full queue, one stream open, 400+ deliveries", m)
	}
}

// countingMeter records what a hub reports.
type countingMeter struct {
	mu sync.Mutex
	m  meterCounts
}

type meterCounts struct {
	open      map[string]int
	cut       map[string]int
	delivered int
}

func (c *countingMeter) add(f func(*meterCounts)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m.open == nil {
		c.m.open, c.m.cut = map[string]int{}, map[string]int{}
	}
	f(&c.m)
}

func (c *countingMeter) StreamOpened(t string) { c.add(func(m *meterCounts) { m.open[t]++ }) }
func (c *countingMeter) StreamClosed(t string) { c.add(func(m *meterCounts) { m.open[t]-- }) }
func (c *countingMeter) Delivered(n int)       { c.add(func(m *meterCounts) { m.delivered += n }) }
func (c *countingMeter) CutOff(r string)       { c.add(func(m *meterCounts) { m.cut[r]++ }) }

func (c *countingMeter) snapshot() (m meterCounts) {
	c.add(func(x *meterCounts) {
		m = meterCounts{open: maps.Clone(x.open), cut: maps.Clone(x.cut), delivered: x.delivered}
	})
	return m
}

// Live events wait while a connection replays; a replay so slow that more
// arrive than a queue holds gets the connection cut, to resume later,
// rather than held events dropped or the replay overtaken.
func TestLiveEventsOutgrowingASlowReplayCutIt(t *testing.T) {
	rg := newRig(t, Options{QueueSize: 2})
	rg.hub.Join(10, 1)
	started := make(chan struct{})
	rg.replay = func(int64) Replay {
		return func(ctx context.Context, send func(int64, string, []byte) error) error {
			close(started)
			<-ctx.Done() // a replay that never ends on its own
			return ctx.Err()
		}
	}
	c := rg.connect(1, "")
	<-started
	for id := int64(1); id <= int64(rg.hub.queueLen())+1; id++ {
		rg.hub.Publish(10, id, []byte("live"))
	}
	if !c.bg.Ended(5 * time.Second) {
		t.Fatal("the connection must be cut once held events outgrow its queue")
	}
	rg.waitConns(0)
}

// A refusal carries the id the client resumes from, so refusing does not
// move its resume point.
func TestARefusalKeepsTheResumePoint(t *testing.T) {
	rg := newRig(t, Options{MaxConnsPerSession: 1})
	rg.connect(1, "?session=s")
	rg.waitConns(1)
	refused := rg.connectWith(1, "?session=s", http.Header{"Last-Event-ID": {"42"}})
	if ev := refused.next(t); ev.Name != ClosedEvent || ev.ID != "42" {
		t.Fatalf("refusal = %+v", ev)
	}
}

// Typing and presence held back during a replay have room of their own in
// the hold, so a burst of them never takes a message's place there; on
// release the messages go first, so typing held ahead of a message never
// takes the queue's last slot from it, and typing that does not fit is
// dropped, as it would be offered live. Only a message that does not fit
// cuts the connection.
func TestHeldLossyEventsNeverCutAConnection(t *testing.T) {
	typing := func() *Event { ev := newEvent(1, "typing", []byte("t")); ev.lossy = true; return ev }
	out := newQueueOutlet(3, nil) // never served: what it queued stays there
	c := newConn("test", out, 2)
	for i, want := range []offered{queued, queued, full} {
		if got := c.offer(typing()); got != want {
			t.Fatalf("typing event %d offered to a hold of 2: %v, want %v", i+1, got, want)
		}
	}
	msg := newEvent(2, "", []byte("hello"))
	if got := c.offer(msg); got != queued {
		t.Fatalf("a message offered to a hold full of typing: %v, want queued", got)
	}
	if !c.release() || len(out.queue) != 3 {
		t.Fatalf("release: %d queued, want the message, then two typing events", len(out.queue))
	}
	if <-out.queue != msg {
		t.Fatal("release queued typing before the message")
	}

	out = newQueueOutlet(1, nil)
	c = newConn("test", out, 2)
	c.offer(typing())
	c.offer(msg)
	if !c.release() || len(out.queue) != 1 || <-out.queue != msg {
		t.Fatal("typing held ahead of a message took the queue's last slot from it")
	}

	out = newQueueOutlet(1, nil)
	c = newConn("test", out, 2)
	c.offer(typing())
	c.offer(typing())
	if !c.release() || len(out.queue) != 1 {
		t.Fatalf("release of typing outgrowing the queue: %d queued, want 1 and the connection kept", len(out.queue))
	}

	c = newConn("test", newQueueOutlet(1, nil), 2)
	c.offer(newEvent(1, "", []byte("one")))
	c.offer(newEvent(2, "", []byte("two")))
	if got := c.offer(newEvent(3, "", []byte("three"))); got != full {
		t.Fatalf("a third message offered to a hold of two messages: %v, want full", got)
	}
	if c.release() {
		t.Fatal("release fitted two messages into a queue of one")
	}
}

// A stream ended while it replays gets its end last: typing and presence
// held back meanwhile never follow it. r3labs/sse stops reading at the
// end, so events queued behind it would stay there, and enough of them
// blocked its stream goroutine and the close waiting on it for good.
func TestNothingFollowsTheEndOfAStreamEndedWhileReplaying(t *testing.T) {
	out := newQueueOutlet(8, nil) // never served: what it queued stays there
	c := newConn("test", out, 4)
	typing := newEvent(1, "typing", []byte("t"))
	typing.lossy = true
	c.offer(typing)
	msg := newEvent(2, "", []byte("hello"))
	c.offer(msg)
	c.offer(typing)
	if !c.finish(nil, endResume) {
		t.Fatal("finish while replaying did not end the stream")
	}
	if !c.release() {
		t.Fatal("release of a message and the end into a queue of 8 failed")
	}
	var kinds []string
	for len(out.queue) > 0 {
		ev := <-out.queue
		kinds = append(kinds, fmt.Sprintf("%s/%v", ev.Name, ev.kind == kindEnd))
	}
	if want := []string{"/false", "/true"}; !slices.Equal(kinds, want) {
		t.Fatalf("queued %v (name/end), want the message, then the end, and nothing after", kinds)
	}
}

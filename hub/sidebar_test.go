package hub

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// A stream that saves data gets sidebar updates coalesced: the newest for
// each room at each flush, however many changes came before it. Another
// stream of the same user gets each at once.
func TestSidebarUpdatesAreCoalescedForStreamsThatSaveData(t *testing.T) {
	ticks := make(chan time.Time)
	rg := newRig(t, Options{SidebarTicks: ticks})
	full := rg.connect(1, "?session=desktop")
	light := rg.connectWith(1, "?session=phone", http.Header{"Save-Data": {"on"}})
	rg.waitConns(2)

	for i := 1; i <= 5; i++ {
		rg.hub.PublishSidebar(1, 10, 0, fmt.Appendf(nil, "room 10: %d unread", i))
		if ev := full.next(t); ev.Data != fmt.Sprintf("room 10: %d unread", i) {
			t.Fatalf("the full stream got %q", ev.Data)
		}
	}
	rg.hub.PublishSidebar(1, 11, 0, []byte("room 11: 1 unread"))
	full.next(t)
	ticks <- time.Now()
	got := map[string]bool{}
	for range 2 {
		got[light.next(t).Data] = true
	}
	if !got["room 10: 5 unread"] || !got["room 11: 1 unread"] || len(got) != 2 {
		t.Fatalf("the light stream got %v: want the newest for each room, once", got)
	}
	ticks <- time.Now() // nothing held: nothing sent
	rg.hub.PublishSidebar(1, 10, 0, []byte("room 10: read"))
	full.next(t)
	ticks <- time.Now()
	if ev := light.next(t); ev.Data != "room 10: read" {
		t.Fatalf("after an empty flush the light stream got %q", ev.Data)
	}
}

// Sidebar updates that find the queue full wait for the next flush rather
// than being lost (nothing else would bring the counts), and one held
// meanwhile for the same room wins over them.
func TestSidebarUpdatesThatDoNotFitWaitForTheNextFlush(t *testing.T) {
	out := newQueueOutlet(1, nil) // never served: what it queued stays there
	c := newConn("test", out, 4)
	c.release()
	c.offer(newEvent(1, "", []byte("a message")))  // the queue is full
	c.holdSidebar(11, []byte("room 11: 3 unread")) // came after the flush took the older one
	c.sendSidebar(7, map[int64][]byte{10: []byte("room 10: 1 unread"), 11: []byte("room 11: 2 unread")})
	<-out.queue
	held := c.takeSidebar()
	if len(held) != 2 || string(held[10]) != "room 10: 1 unread" || string(held[11]) != "room 11: 3 unread" {
		t.Fatalf("held %d updates, room 10 %q, room 11 %q, after a full queue: want room 10's kept and room 11's newest", len(held), held[10], held[11])
	}
	c.sendSidebar(8, held)
	if ev := <-out.queue; ev.ID != 8 || len(c.takeSidebar()) != 1 {
		t.Fatalf("the next flush queued %+v and should hold the update that still did not fit", ev)
	}
}

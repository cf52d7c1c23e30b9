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

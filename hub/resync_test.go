package hub

import (
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Resync ends every open stream after what was queued for it, and the
// room index is the store's from then on: a member the store no longer
// has stops getting the room, one it has now starts, guests stay.
func TestResyncEndsStreamsAndTakesTheStoresMembers(t *testing.T) {
	rg := newRig(t, Options{})
	rg.hub.Join(10, 1)
	rg.hub.Join(20, 2)
	rg.hub.Join(10, guestsOf(10))
	one, two := rg.connect(1, ""), rg.connect(2, "")
	rg.waitConns(2)

	rg.hub.Publish(10, 1, []byte("queued before"))
	rg.hub.Resync([]chat.Membership{{RoomID: 10, UserID: 2}, {RoomID: 30, UserID: 1}})
	if ev := one.next(t); ev.Data != "queued before" {
		t.Fatalf("the queued event was lost: %+v", ev)
	}
	for name, c := range map[string]*client{"one": one, "two": two} {
		if !c.bg.Ended(5 * time.Second) {
			t.Fatalf("stream of %s stayed open", name)
		}
	}
	rg.waitConns(0)

	one, two = rg.connect(1, ""), rg.connect(2, "")
	rg.waitConns(2)
	rg.hub.Publish(10, 2, []byte("room 10"))
	rg.hub.Publish(30, 3, []byte("room 30"))
	if ev := two.next(t); ev.ID != "2" {
		t.Fatalf("the new member got %+v", ev)
	}
	if ev := one.next(t); ev.ID != "3" {
		t.Fatalf("the former member got %+v before its own room's event", ev)
	}
	rg.hub.mu.RLock()
	_, guests := rg.hub.rooms[10][guestsOf(10)]
	rg.hub.mu.RUnlock()
	if !guests {
		t.Fatal("the room's guests were dropped")
	}
}

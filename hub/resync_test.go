package hub

import (
	"errors"
	"slices"
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
	if err := rg.hub.Resync(func() ([]chat.Membership, error) {
		return []chat.Membership{{RoomID: 10, UserID: 2}, {RoomID: 30, UserID: 1}}, nil
	}); err != nil {
		t.Fatal(err)
	}
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

// A join or leave made while Resync reads the store (this node's relay
// goes on meanwhile) is not undone by what it read before them; nor is a
// failed read applied.
func TestResyncKeepsTheMovesMadeWhileItReads(t *testing.T) {
	rg := newRig(t, Options{})
	rg.hub.Join(10, 1)
	rg.hub.Join(10, 2)
	read := func() ([]chat.Membership, error) {
		snapshot := []chat.Membership{{RoomID: 10, UserID: 1}, {RoomID: 10, UserID: 2}}
		rg.hub.Join(40, 1)  // committed and published after the read
		rg.hub.Leave(10, 2) // as was this
		rg.hub.Join(50, 3)
		rg.hub.Leave(50, 3) // the last word on room 50 is that 3 left
		return snapshot, nil
	}
	if err := rg.hub.Resync(read); err != nil {
		t.Fatal(err)
	}
	members := func() map[int64][]int64 {
		rg.hub.mu.RLock()
		defer rg.hub.mu.RUnlock()
		out := map[int64][]int64{}
		for room, users := range rg.hub.rooms {
			for u := range users {
				out[room] = append(out[room], u)
			}
		}
		return out
	}
	if got := members(); len(got) != 2 || !slices.Equal(got[10], []int64{1}) || !slices.Equal(got[40], []int64{1}) {
		t.Fatalf("rooms after the resync: %v; want 10: [1], 40: [1]", got)
	}
	failed := errors.New("the store is away")
	if err := rg.hub.Resync(func() ([]chat.Membership, error) { return nil, failed }); err != failed {
		t.Fatalf("a failed read gave %v", err)
	}
	if got := members(); len(got) != 2 {
		t.Fatalf("a failed read changed the rooms: %v", got)
	}
	rg.hub.mu.RLock()
	defer rg.hub.mu.RUnlock()
	if rg.hub.resyncing != 0 || len(rg.hub.moves) != 0 {
		t.Fatalf("after the resyncs: %d reading, %d moves kept; want none", rg.hub.resyncing, len(rg.hub.moves))
	}
}

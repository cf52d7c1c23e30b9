package redisbus

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/internal/redistest"
)

// liveHub renders typing and presence as plain text and flushes often.
func liveHub() hub.Options {
	return hub.Options{
		TypingEvery: 20 * time.Millisecond, PresenceEvery: 20 * time.Millisecond, OfflineAfter: time.Second,
		RenderTyping: func(room int64, ts []chat.Typist) []byte {
			var names []string
			for _, t := range ts {
				names = append(names, t.Name)
			}
			return fmt.Appendf(nil, "typing: %s", strings.Join(names, ","))
		},
		RenderPresence: func(room int64, cs []chat.PresenceChange) []byte {
			var parts []string
			for _, c := range cs {
				parts = append(parts, fmt.Sprintf("%d=%s", c.User, c.State))
			}
			return fmt.Appendf(nil, "presence: %s", strings.Join(parts, ","))
		},
	}
}

// Someone typing on node A shows as typing to their room's members on node
// B; someone with a page open only on A shows online on B, and offline
// once A stops saying so.
func TestTypingAndPresenceReachOtherNodes(t *testing.T) {
	d := newDB()
	d.setMember(10, 1, true)
	d.setMember(10, 2, true)
	addr, channel := redistest.Addr(t), redistest.Channel(t)
	nodes := make([]*node, 2)
	for i := range nodes {
		nodes[i] = newStoppedNode(t, d, addr, channel, Options{ShareEvery: 50 * time.Millisecond}, liveHub())
		nodes[i].bus.Start()
		nodes[i].waitHealthy()
	}
	a, b := nodes[0], nodes[1]
	onB := b.read(2, "s")
	b.waitConns(1)
	// next waits for a live event of name that is want (presence: holds
	// it; B's own user coming online may arrive first, or in the same
	// event).
	next := func(name, want string) {
		t.Helper()
		for {
			ev := onB.next(t)
			if ev.Name == name && (ev.Data == want || name == hub.PresenceEvent && strings.Contains(ev.Data, want)) {
				return
			}
			if ev.Name != hub.TypingEvent && ev.Name != hub.PresenceEvent {
				t.Fatalf("B's reader got %+v waiting for %q", ev, want)
			}
		}
	}
	a.read(1, "a-session")
	a.waitConns(1)
	next(hub.PresenceEvent, "1=online")
	if !a.bus.Typing(10, 1, "ann") {
		t.Fatal("a member's typing was refused")
	}
	next(hub.TypingEvent, "typing: ann")
	a.bus.StoppedTyping(10, 1)
	next(hub.TypingEvent, "typing: ")
	a.hub.EndSession(1, "a-session") // only on A: their page there closes
	next(hub.PresenceEvent, "1=offline")
}

// An announcement copy another node publishes is delivered when it
// reaches its recipient's stream here, and only then: this node says so.
func TestRemoteAnnouncementCopiesAreReportedDelivered(t *testing.T) {
	d := newDB()
	d.setMember(10, 1, true) // the sender
	d.setMember(10, 2, true) // the recipient, on B
	d.setMember(11, 1, true)
	d.setMember(11, 3, true) // another recipient, not connected anywhere
	addr, channel := redistest.Addr(t), redistest.Channel(t)
	a := newNode(t, d, addr, channel)
	delivered := make(chan int64, 4)
	b := newStoppedNode(t, d, addr, channel, Options{Delivered: func(id int64) { delivered <- id }})
	b.bus.Start()
	b.waitHealthy()
	onB := b.read(2, "s")
	b.waitConns(1)

	unread := d.commit(11, "to 3")
	a.bus.PublishExcept(11, 1, unread, []byte("to 3"))
	reached := d.commit(10, "to 2")
	a.bus.PublishExcept(10, 1, reached, []byte("to 2"))
	onB.until(t, reached)
	sentinel := a.post(10, "after")
	onB.until(t, sentinel) // B applied everything before it
	select {
	case id := <-delivered:
		if id != reached {
			t.Fatalf("B reported %d delivered, want %d", id, reached)
		}
	default:
		t.Fatal("B reported no delivery")
	}
	if len(delivered) > 0 {
		t.Fatalf("B reported %d more", <-delivered)
	}
}

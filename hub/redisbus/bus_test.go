package redisbus

import (
	"slices"
	"testing"

	"github.com/rtmessenger/rtmessenger/hub"
)

// A message published on node A reaches a member connected to node B,
// once, and A's own member once too (A skips its own echo).
func TestPublishReachesEveryNodeOnce(t *testing.T) {
	d := newDB()
	d.setMember(10, 1, true)
	d.setMember(10, 2, true)
	a, b, _, _ := twoNodes(t, d)
	onA, onB := a.read(1, "s1"), b.read(2, "s2")
	a.waitConns(1)
	b.waitConns(1)

	hello := a.post(10, "hello")
	sentinel := a.post(10, "sentinel")
	for name, rd := range map[string]*reader{"A": onA, "B": onB} {
		if got := rd.until(t, sentinel); !slices.Equal(got, []int64{hello, sentinel}) {
			t.Errorf("member on %s got ids %v, want %v", name, got, []int64{hello, sentinel})
		}
	}

	// To one user, to one user's sidebar, and to all but one, likewise.
	to := d.commit(0, "receipt")
	a.bus.PublishTo(2, to, []byte("receipt"))
	sidebar := d.commit(0, "counts")
	a.bus.PublishSidebar(2, 10, sidebar, []byte("counts"))
	except := d.commit(10, "announcement")
	if reached := a.bus.PublishExcept(10, 1, except, []byte("announcement")); reached != 0 {
		t.Errorf("PublishExcept reached %d on A, where only the sender is", reached)
	}
	sentinel = a.post(10, "sentinel") // after the others on every node: A sent them in order
	if got := onB.until(t, sentinel); !slices.Equal(got, []int64{to, sidebar, except, sentinel}) {
		t.Errorf("member on B got %v, want %v", got, []int64{to, sidebar, except, sentinel})
	}
	if got := onA.until(t, sentinel); !slices.Equal(got, []int64{sentinel}) {
		t.Errorf("the excepted sender on A got %v, want only %v", got, sentinel)
	}
}

// Joining and leaving on A changes what B's open streams get, at once.
func TestMembershipChangesReachEveryNode(t *testing.T) {
	d := newDB()
	d.setMember(10, 2, true)
	a, b, _, _ := twoNodes(t, d)
	onB := b.read(2, "s")
	b.waitConns(1)

	d.setMember(20, 2, true)
	a.bus.Join(20, 2)
	joined := a.post(20, "after the join")
	if got := onB.until(t, joined); !slices.Equal(got, []int64{joined}) {
		t.Fatalf("the joiner on B got %v, want %v", got, joined)
	}

	d.setMember(20, 2, false)
	a.bus.Leave(20, 2)
	if ev := onB.next(t); ev.Name != endOfStream {
		t.Fatalf("the leaver's stream on B went on: %+v", ev)
	}
	kept := a.post(20, "after the leave")
	sentinel := a.post(10, "sentinel")
	if got := onB.until(t, sentinel); slices.Contains(got, kept) {
		t.Fatalf("the leaver on B still got the room: %v", got)
	}
}

// Ending a session on A closes that session's streams on B, and only
// those; disconnecting a user on A closes all of theirs on B.
func TestSessionEndsReachEveryNode(t *testing.T) {
	d := newDB()
	d.setMember(10, 2, true)
	a, b, _, _ := twoNodes(t, d)
	phone, laptop := b.read(2, "phone"), b.read(2, "laptop")
	b.waitConns(2)

	a.bus.EndSession(2, "phone")
	if ev := phone.next(t); ev.Name != hub.SignedOutEvent {
		t.Fatalf("the ended session's stream on B got %+v", ev)
	}
	b.waitConns(1)
	sentinel := a.post(10, "sentinel")
	if got := laptop.until(t, sentinel); !slices.Equal(got, []int64{sentinel}) {
		t.Fatalf("the other session got %v", got)
	}

	a.bus.Disconnect(2)
	if ev := laptop.next(t); ev.Name != hub.SignedOutEvent {
		t.Fatalf("after Disconnect on A the stream on B got %+v", ev)
	}
	b.waitConns(0)
}

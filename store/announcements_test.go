package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/rtmessenger/rtmessenger/chat"
)

type receipts struct {
	mu     sync.Mutex
	lastID []int64
	got    []chat.Receipt
}

func (r *receipts) add(last int64, rs []chat.Receipt) {
	r.mu.Lock()
	r.lastID = append(r.lastID, last)
	r.got = append(r.got, rs...)
	r.mu.Unlock()
}

func (r *receipts) last() (int64, chat.Receipt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		return 0, chat.Receipt{}
	}
	return r.lastID[len(r.lastID)-1], r.got[len(r.got)-1]
}

func TestAnnounceReachesEachRecipientOnceInTheirDirectConversation(t *testing.T) {
	var seen commits
	var rc receipts
	s := openTest(t, Options{OnCommit: seen.add, OnReceipts: rc.add})
	ctx := context.Background()
	boss, ann, bob, cat := mustUser(t, s, "boss"), mustUser(t, s, "ann"), mustUser(t, s, "bob"), mustUser(t, s, "cat")
	lobby := mustRoom(t, s, boss, "lobby")
	for _, u := range []chat.User{ann, bob} {
		if err := s.Join(ctx, lobby.ID, u); err != nil {
			t.Fatal(err)
		}
	}
	existing, _ := s.StartConversation(ctx, boss, []string{"ann"})
	seen.take()

	// ann is named and in the room: she gets one copy. boss is excluded.
	a, err := s.Announce(ctx, boss, chat.AnnouncementTargets{Usernames: []string{"ann", "cat", "boss"}, Rooms: []int64{lobby.ID}}, "Fire drill at 3")
	if err != nil {
		t.Fatal(err)
	}
	if a.Recipients != 3 || a.Delivered != 0 {
		t.Fatalf("announcement = %+v, want 3 recipients", a.Receipt)
	}
	published := seen.take()
	var copies []chat.Message
	silent := 0
	for _, m := range published {
		if m.Silent() {
			silent++
			continue
		}
		copies = append(copies, m)
		if m.Kind != chat.KindAnnouncement || m.Body != "Fire drill at 3" || m.AuthorID != boss.ID {
			t.Errorf("copy = %+v", m)
		}
	}
	if len(copies) != 3 || silent != 4 {
		t.Fatalf("published %d copies and %d silent joins, want 3 and 4 (two new conversations)", len(copies), silent)
	}
	for i := 1; i < len(copies); i++ {
		if copies[i].ID <= copies[i-1].ID {
			t.Fatalf("copies out of id order: %+v", copies)
		}
	}
	// ann's copy lands in the conversation she already had with boss.
	msgs, _, _ := s.History(ctx, existing.ID, 0, 10)
	if len(msgs) != 1 || msgs[0].Kind != chat.KindAnnouncement {
		t.Errorf("ann's conversation with boss: %+v", msgs)
	}
	for _, u := range []chat.User{ann, bob, cat} {
		missed, _ := s.Missed(ctx, u.ID, 0, 100)
		n := 0
		for _, m := range missed {
			if m.Kind == chat.KindAnnouncement {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s has %d copies to replay, want 1", u.Name, n)
		}
	}
	if missed, _ := s.Missed(ctx, boss.ID, 0, 100); containsKind(missed, chat.KindAnnouncement) {
		t.Error("the sender's stream must not replay their own copies")
	}

	// Delivery and reading update the counts, and receipts come out with
	// an id no lower than the copies they count.
	if err := s.MarkDelivered(ctx, []int64{copies[0].ID, copies[1].ID, copies[1].ID, 999999}); err != nil {
		t.Fatal(err)
	}
	last, r := rc.last()
	if r.AnnouncementID != a.ID || r.SenderID != boss.ID || r.Recipients != 3 || r.Delivered != 2 || r.Read != 0 || len(r.Changed) != 2 {
		t.Fatalf("receipt after delivery = %+v", r)
	}
	if last < copies[2].ID {
		t.Errorf("receipt id %d is behind the copies (%d)", last, copies[2].ID)
	}
	catRoom := copies[2].RoomID
	if err := s.MarkRead(ctx, cat.ID, catRoom); err != nil {
		t.Fatal(err)
	}
	if _, r = rc.last(); r.Delivered != 3 || r.Read != 1 {
		t.Fatalf("receipt after cat read = %+v", r)
	}
	before := len(rc.got)
	if err := s.MarkRead(ctx, cat.ID, catRoom); err != nil || len(rc.got) != before {
		t.Errorf("reading again should change nothing: %v, %d receipts", err, len(rc.got)-before)
	}
	got, err := s.Announcement(ctx, a.ID, boss)
	if err != nil || got.Delivered != 3 || got.Read != 1 || got.Body != "Fire drill at 3" {
		t.Errorf("status = %+v, %v", got, err)
	}
	if _, err := s.Announcement(ctx, a.ID, ann); chat.CodeOf(err) != chat.NotFound {
		t.Errorf("a recipient reading the status: %v", err)
	}
	rs, _ := s.Recipients(ctx, a.ID, 0, 10)
	if len(rs) != 3 || rs[2].User.Name != "cat" || rs[2].Read.IsZero() {
		t.Errorf("recipients (unread first) = %+v", rs)
	}
}

func containsKind(msgs []chat.Message, k chat.Kind) bool {
	for _, m := range msgs {
		if m.Kind == k {
			return true
		}
	}
	return false
}

func TestAnnounceResolvesOnlyWhomTheSenderMayReach(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	admin, ann, bob := mustUser(t, s, "admin"), mustUser(t, s, "ann"), mustUser(t, s, "bob")
	public := mustRoom(t, s, bob, "public")
	private, _ := s.StartConversation(ctx, bob, []string{"admin"})
	for _, tc := range []struct {
		name   string
		sender chat.User
		to     chat.AnnouncementTargets
		want   chat.Code
	}{
		{"everyone, not admin", ann, chat.AnnouncementTargets{Everyone: true}, chat.Forbidden},
		{"room not joined", ann, chat.AnnouncementTargets{Rooms: []int64{public.ID}}, chat.Forbidden},
		{"someone else's conversation", ann, chat.AnnouncementTargets{Rooms: []int64{private.ID}}, chat.NotFound},
		{"no such room", ann, chat.AnnouncementTargets{Rooms: []int64{12345}}, chat.NotFound},
		{"no such person", ann, chat.AnnouncementTargets{Usernames: []string{"bob", "ghost"}}, chat.NotFound},
		{"only oneself", ann, chat.AnnouncementTargets{Usernames: []string{"ann"}}, chat.Invalid},
		{"nobody", ann, chat.AnnouncementTargets{}, chat.Invalid},
	} {
		_, err := s.Announce(ctx, tc.sender, tc.to, "hello")
		if chat.CodeOf(err) != tc.want || err == nil {
			t.Errorf("%s: %v (%v), want %v", tc.name, err, chat.CodeOf(err), tc.want)
		}
	}
	if msgs, _ := s.Missed(ctx, bob.ID, 0, 100); containsKind(msgs, chat.KindAnnouncement) {
		t.Error("a refused announcement must store nothing")
	}
	// An admin may reach a public room's members without joining it.
	if a, err := s.Announce(ctx, admin, chat.AnnouncementTargets{Rooms: []int64{public.ID}}, "hi"); err != nil || a.Recipients != 1 {
		t.Errorf("admin to a public room: %+v, %v", a.Receipt, err)
	}
	if a, err := s.Announce(ctx, admin, chat.AnnouncementTargets{Everyone: true}, "all"); err != nil || a.Recipients != 2 {
		t.Errorf("admin to everyone: %+v, %v", a.Receipt, err)
	}
}

// One announcement to 5,000 people is one transaction: one batch, one
// group commit, every recipient's copy stored and linked.
func TestAnnounceToFiveThousandInOneTransaction(t *testing.T) {
	var seen commits
	s := openTest(t, Options{OnCommit: seen.add})
	ctx := context.Background()
	names := make([]string, 5001)
	for i := range names {
		names[i] = fmt.Sprintf("user%04d", i)
	}
	users := mustUsers(t, s, names)
	admin := users[0]
	batches, _ := s.Stats()
	a, err := s.Announce(ctx, admin, chat.AnnouncementTargets{Everyone: true}, "Welcome, all five thousand")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := s.Stats()
	if after-batches != 1 {
		t.Errorf("the announcement took %d transactions, want 1", after-batches)
	}
	if a.Recipients != 5000 {
		t.Fatalf("recipients = %d, want 5000", a.Recipients)
	}
	copies := 0
	for _, m := range seen.take() {
		if m.Kind == chat.KindAnnouncement {
			copies++
		}
	}
	if copies != 5000 {
		t.Errorf("published %d copies, want 5000", copies)
	}
	rs, _ := s.Recipients(ctx, a.ID, 0, 10000)
	rooms := map[int64]bool{}
	for _, r := range rs {
		rooms[r.RoomID] = true
	}
	if len(rs) != 5000 || len(rooms) != 5000 {
		t.Errorf("%d recipient rows in %d rooms, want 5000 each", len(rs), len(rooms))
	}
}

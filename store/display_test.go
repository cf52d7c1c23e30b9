package store

import (
	"context"
	"sync"
	"testing"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Messages carry their author's display name: a live one the name at the
// time it was sent (from the cached user, no look-up per post), history and
// replays the name as it is now.
func TestMessagesCarryDisplayNames(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var live []chat.Message
	s := openTest(t, Options{OnCommit: func(msgs []chat.Message) {
		mu.Lock()
		live = append(live, msgs...)
		mu.Unlock()
	}})
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	room := mustRoom(t, s, ann, "lobby")
	if err := s.Join(ctx, room.ID, bob); err != nil {
		t.Fatal(err)
	}
	first, err := s.PostMessage(ctx, room.ID, bob, "before", "")
	if err != nil {
		t.Fatal(err)
	}
	if first.AuthorDisplay != "" {
		t.Errorf("display name %q before bob chose one", first.AuthorDisplay)
	}

	if _, err := s.UpdateProfile(ctx, "bob", chat.Profile{DisplayName: "Bob Builder", TimeZone: "Asia/Tokyo"}, bob); err != nil {
		t.Fatal(err)
	}
	bob, err = s.UserByID(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bob.Display != "Bob Builder" || bob.Zone != "Asia/Tokyo" {
		t.Fatalf("user after the change: display %q, zone %q", bob.Display, bob.Zone)
	}
	second, err := s.PostMessage(ctx, room.ID, bob, "after", "")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	published := live[len(live)-1]
	mu.Unlock()
	if second.AuthorDisplay != "Bob Builder" || published.ID != second.ID || published.AuthorDisplay != "Bob Builder" {
		t.Errorf("live message: returned %q, published %+v", second.AuthorDisplay, published)
	}

	history, _, err := s.History(ctx, room.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	missed, err := s.Missed(ctx, ann.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for name, msgs := range map[string][]chat.Message{"history": history, "missed": missed} {
		n := 0
		for _, m := range msgs {
			want := ""
			if m.AuthorID == bob.ID {
				want = "Bob Builder"
				n++
			}
			if m.AuthorDisplay != want || (m.AuthorID == bob.ID && m.Author != "bob") {
				t.Errorf("%s: message %d by %s shows %q, want %q", name, m.ID, m.Author, m.AuthorDisplay, want)
			}
		}
		if n != 3 { // bob's join line and his two messages
			t.Errorf("%s: %d of bob's messages, want 3", name, n)
		}
	}
}

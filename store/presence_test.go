package store

import (
	"maps"
	"testing"
)

// Each direct conversation maps to the other person in it; group
// conversations and rooms do not count.
func TestDirectPeers(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	ann, bob, cat := mustUser(t, s, "ann"), mustUser(t, s, "bob"), mustUser(t, s, "cat")
	withBob, err := s.StartConversation(ctx, ann, []string{"bob"})
	if err != nil {
		t.Fatal(err)
	}
	withCat, err := s.StartConversation(ctx, cat, []string{"ann"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartConversation(ctx, ann, []string{"bob", "cat"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRoom(ctx, ann, "general", ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		who  string
		id   int64
		want map[int64]int64
	}{
		{"ann", ann.ID, map[int64]int64{withBob.ID: bob.ID, withCat.ID: cat.ID}},
		{"bob", bob.ID, map[int64]int64{withBob.ID: ann.ID}},
		{"cat", cat.ID, map[int64]int64{withCat.ID: ann.ID}},
	} {
		got, err := s.DirectPeers(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, c.want) {
			t.Errorf("%s: peers %v, want %v", c.who, got, c.want)
		}
	}
}

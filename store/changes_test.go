package store

import (
	"context"
	"sync"
	"testing"

	"github.com/rtmessenger/rtmessenger/chat"
)

// committed collects what the store hands to OnCommit.
type committed struct {
	mu   sync.Mutex
	msgs []chat.Message
}

func (c *committed) add(msgs []chat.Message) {
	c.mu.Lock()
	c.msgs = append(c.msgs, msgs...)
	c.mu.Unlock()
}

func (c *committed) last() chat.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.msgs[len(c.msgs)-1]
}

// An edit keeps the old text for managers, moves the message's event id
// past everything before it, updates its mentions, and is replayed to a
// stream that resumes from after the message itself.
func TestEditMessage(t *testing.T) {
	var seen committed
	s := openTest(t, Options{OnCommit: seen.add})
	ctx := context.Background()
	alice, bob := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	room := mustRoom(t, s, alice, "general")
	mustJoin(t, s, room.ID, bob)
	m := mustPost(t, s, room.ID, alice, "helo @bob")
	later := mustPost(t, s, room.ID, bob, "hi")

	wantCode(t, "someone else's message", errOf(s.EditMessage(ctx, room.ID, m.ID, bob, "x")), chat.Forbidden)
	edited, err := s.EditMessage(ctx, room.ID, m.ID, alice, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if edited.Body != "hello" || edited.Edited.IsZero() || edited.EventID() <= later.ID || len(edited.Mentions) != 0 {
		t.Fatalf("edited %+v (later message %d)", edited, later.ID)
	}
	if got := seen.last(); got.ID != m.ID || got.Body != "hello" || got.EventID() != edited.EventID() {
		t.Fatalf("OnCommit got %+v", got)
	}
	if ms, _, _ := s.MentionsOf(ctx, bob.ID, 0, 10); len(ms) != 0 {
		t.Fatalf("bob still has %d mentions after the edit took his name out", len(ms))
	}
	latest, _ := s.LatestID(ctx)
	if latest != edited.EventID() {
		t.Fatalf("latest event %d, want the edit's %d", latest, edited.EventID())
	}
	missed, err := s.Missed(ctx, bob.ID, later.ID, 10)
	if err != nil || len(missed) != 1 || missed[0].ID != m.ID || missed[0].Body != "hello" {
		t.Fatalf("missed after %d: %+v %v", later.ID, missed, err)
	}
	if missed, _ := s.Missed(ctx, bob.ID, edited.EventID(), 10); len(missed) != 0 {
		t.Fatalf("missed after the edit: %+v", missed)
	}
	next := mustPost(t, s, room.ID, bob, "after the edit")
	if next.ID <= edited.EventID() {
		t.Fatalf("a new message took id %d, not past the edit's event %d", next.ID, edited.EventID())
	}

	// The same text again changes nothing; the audit has one entry, for
	// managers only.
	if again, err := s.EditMessage(ctx, room.ID, m.ID, alice, "hello"); err != nil || again.EventID() != edited.EventID() {
		t.Fatalf("the same text again: %+v %v", again, err)
	}
	_, manager, edits, err := s.Message(ctx, room.ID, m.ID, alice)
	if err != nil || !manager || len(edits) != 1 || edits[0].OldBody != "helo @bob" || edits[0].Editor != "alice" {
		t.Fatalf("alice (the creator) sees manager=%v edits %+v %v", manager, edits, err)
	}
	if _, manager, edits, _ := s.Message(ctx, room.ID, m.ID, bob); manager || edits != nil {
		t.Fatalf("bob sees manager=%v edits %+v", manager, edits)
	}
}

// Deleting leaves a placeholder with no text, reactions or mentions; the
// author and the room's managers may, others may not; nothing is done
// twice.
func TestDeleteMessage(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	alice, bob, carol := mustUser(t, s, "alice"), mustUser(t, s, "bob"), mustUser(t, s, "carol")
	room := mustRoom(t, s, alice, "general")
	mustJoin(t, s, room.ID, bob)
	mustJoin(t, s, room.ID, carol)
	bobs := mustPost(t, s, room.ID, bob, "@carol rude words")
	if _, _, err := s.React(ctx, room.ID, bobs.ID, carol, "👀"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "another member deletes", errOf(s.DeleteMessage(ctx, room.ID, bobs.ID, carol)), chat.Forbidden)
	gone, err := s.DeleteMessage(ctx, room.ID, bobs.ID, alice) // the room's creator
	if err != nil {
		t.Fatal(err)
	}
	if !gone.Deleted || gone.Body != "" || len(gone.Reactions) != 0 {
		t.Fatalf("deleted: %+v", gone)
	}
	if ms, _, _ := s.MentionsOf(ctx, carol.ID, 0, 10); len(ms) != 0 {
		t.Fatalf("carol still has %d mentions", len(ms))
	}
	wantCode(t, "deleting twice", errOf(s.DeleteMessage(ctx, room.ID, bobs.ID, bob)), chat.Conflict)
	wantCode(t, "editing a deleted message", errOf(s.EditMessage(ctx, room.ID, bobs.ID, bob, "x")), chat.Conflict)
	wantCode(t, "reacting to it", errOf3(s.React(ctx, room.ID, bobs.ID, carol, "👍")), chat.Invalid)

	own := mustPost(t, s, room.ID, carol, "mine")
	if _, err := s.DeleteMessage(ctx, room.ID, own.ID, carol); err != nil {
		t.Fatalf("the author deletes: %v", err)
	}
	msgs, _, _ := s.History(ctx, room.ID, 0, 50)
	deleted := 0
	for _, m := range msgs {
		if m.Deleted {
			deleted++
		}
	}
	if deleted != 2 {
		t.Fatalf("history shows %d deleted placeholders, want 2", deleted)
	}
}

// Reactions toggle per person and emoji, come back in chat.Reactions
// order with who reacted, and only members react, with the fixed set.
func TestReact(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	alice, bob, eve := mustUser(t, s, "alice"), mustUser(t, s, "bob"), mustUser(t, s, "eve")
	room := mustRoom(t, s, alice, "general")
	mustJoin(t, s, room.ID, bob)
	m := mustPost(t, s, room.ID, alice, "ship it?")
	for _, r := range []struct {
		by    chat.User
		emoji string
		on    bool
	}{{bob, "🎉", true}, {alice, "👍", true}, {bob, "👍", true}, {alice, "👍", false}} {
		got, on, err := s.React(ctx, room.ID, m.ID, r.by, r.emoji)
		if err != nil || on != r.on || !got.OnlyReactions {
			t.Fatalf("%s %s: on=%v %v %+v", r.by.Name, r.emoji, on, err, got)
		}
	}
	got, _, _ := s.React(ctx, room.ID, m.ID, alice, "✅")
	want := []chat.Reaction{
		{Emoji: "👍", Users: []chat.Reactor{{ID: bob.ID, Name: "bob"}}},
		{Emoji: "🎉", Users: []chat.Reactor{{ID: bob.ID, Name: "bob"}}},
		{Emoji: "✅", Users: []chat.Reactor{{ID: alice.ID, Name: "alice"}}},
	}
	if len(got.Reactions) != len(want) {
		t.Fatalf("reactions %+v", got.Reactions)
	}
	for i := range want {
		if got.Reactions[i].Emoji != want[i].Emoji || len(got.Reactions[i].Users) != 1 || got.Reactions[i].Users[0] != want[i].Users[0] {
			t.Fatalf("reaction %d: %+v, want %+v", i, got.Reactions[i], want[i])
		}
	}
	wantCode(t, "an emoji not offered", errOf3(s.React(ctx, room.ID, m.ID, bob, "<b>")), chat.Invalid)
	wantCode(t, "a non-member", errOf3(s.React(ctx, room.ID, m.ID, eve, "👍")), chat.Forbidden)
	private := mustPrivate(t, s, alice, "secret")
	hidden := mustPost(t, s, private.ID, alice, "psst")
	wantCode(t, "a non-member of a private room", errOf3(s.React(ctx, private.ID, hidden.ID, eve, "👍")), chat.NotFound)
	wantCode(t, "the wrong room", errOf3(s.React(ctx, room.ID, hidden.ID, bob, "👍")), chat.NotFound)
}

// A reply quotes the start of its original, which must be a live text
// message of the same room; a non-member learns nothing from trying.
func TestReply(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	alice, bob, eve := mustUser(t, s, "alice"), mustUser(t, s, "bob"), mustUser(t, s, "eve")
	room := mustRoom(t, s, alice, "general")
	other := mustRoom(t, s, alice, "other")
	mustJoin(t, s, room.ID, bob)
	orig := mustPost(t, s, room.ID, alice, "lunch at noon?")
	reply, err := s.PostReply(ctx, room.ID, bob, "yes", "", orig.ID)
	if err != nil || reply.ReplyTo == nil || reply.ReplyTo.ID != orig.ID || reply.ReplyTo.Snippet != "lunch at noon?" || reply.ReplyTo.Author != "alice" {
		t.Fatalf("reply %+v %v", reply, err)
	}
	msgs, _, _ := s.History(ctx, room.ID, 0, 10)
	if last := msgs[len(msgs)-1]; last.ReplyTo == nil || last.ReplyTo.ID != orig.ID {
		t.Fatalf("history's reply %+v", last)
	}
	elsewhere := mustPost(t, s, other.ID, alice, "elsewhere")
	wantCode(t, "a reply to another room's message", errOf(s.PostReply(ctx, room.ID, bob, "x", "", elsewhere.ID)), chat.Invalid)
	wantCode(t, "a non-member's reply", errOf(s.PostReply(ctx, room.ID, eve, "x", "", orig.ID)), chat.Forbidden)
	if _, err := s.DeleteMessage(ctx, room.ID, orig.ID, alice); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "a reply to a deleted message", errOf(s.PostReply(ctx, room.ID, bob, "x", "", orig.ID)), chat.Invalid)
	msgs, _, _ = s.History(ctx, room.ID, 0, 10)
	if q := msgs[len(msgs)-1].ReplyTo; q == nil || !q.Deleted || q.Snippet != "" {
		t.Fatalf("the quote of a deleted original: %+v", q)
	}
}

func errOf[T any](_ T, err error) error { return err }

func errOf3[T, U any](_ T, _ U, err error) error { return err }

// Search follows edits and deletes made through the store: the old words
// stop finding an edited message and the new ones find it as it now is;
// a deleted message is found by nothing.
func TestSearchFollowsEditAndDelete(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	ann := mustUser(t, s, "ann")
	room := mustRoom(t, s, ann, "general")
	m := mustPost(t, s, room.ID, ann, "the zebra escaped")
	other := mustPost(t, s, room.ID, ann, "the okapi slept")
	find := func(word string) []int64 {
		t.Helper()
		hits, _, err := s.Search(ctx, ann.ID, chat.SearchQuery{Words: []string{word}})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, h := range hits {
			ids = append(ids, h.Message.ID)
		}
		return ids
	}
	if got := find("zebra"); len(got) != 1 || got[0] != m.ID {
		t.Fatalf("zebra before the edit: %v", got)
	}
	if _, err := s.EditMessage(ctx, room.ID, m.ID, ann, "the giraffe escaped"); err != nil {
		t.Fatal(err)
	}
	if got := find("zebra"); len(got) != 0 {
		t.Fatalf("the old word still finds %v", got)
	}
	hits, _, _ := s.Search(ctx, ann.ID, chat.SearchQuery{Words: []string{"giraffe"}})
	if len(hits) != 1 || hits[0].Message.ID != m.ID || hits[0].Message.Edited.IsZero() {
		t.Fatalf("giraffe after the edit: %+v", hits)
	}
	if _, err := s.DeleteMessage(ctx, room.ID, other.ID, ann); err != nil {
		t.Fatal(err)
	}
	if got := find("okapi"); len(got) != 0 {
		t.Fatalf("a deleted message is still found: %v", got)
	}
	if got := find("the"); len(got) != 1 || got[0] != m.ID {
		t.Fatalf("'the' finds %v, want only the live message %d", got, m.ID)
	}
}

package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rtmessenger/rtmessenger/chat"
)

// commits records what OnCommit received.
type commits struct {
	mu   sync.Mutex
	msgs []chat.Message
}

func (c *commits) add(m []chat.Message) {
	c.mu.Lock()
	c.msgs = append(c.msgs, m...)
	c.mu.Unlock()
}

func (c *commits) take() []chat.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.msgs
	c.msgs = nil
	return out
}

func TestStartConversationFindsTheSamePeopleAgain(t *testing.T) {
	var seen commits
	s := openTest(t, Options{OnCommit: seen.add})
	ctx := context.Background()
	ann, bob, cat := mustUser(t, s, "ann"), mustUser(t, s, "Bob"), mustUser(t, s, "cat")
	seen.take()

	dm, err := s.StartConversation(ctx, ann, []string{"bob", " ", "BOB"})
	if err != nil {
		t.Fatal(err)
	}
	if dm.Kind != chat.KindDirect || dm.Name != "ann, Bob" || dm.Members != 2 {
		t.Fatalf("direct conversation = %+v", dm)
	}
	if got := dm.Title("Bob"); got != "ann" {
		t.Errorf("Bob sees the conversation as %q, want ann", got)
	}
	joins := seen.take()
	if len(joins) != 2 || !joins[0].Silent() || !joins[1].Silent() {
		t.Fatalf("starting a conversation should publish two silent joins, got %+v", joins)
	}
	again, err := s.StartConversation(ctx, bob, []string{"ann"})
	if err != nil || again.ID != dm.ID {
		t.Fatalf("Bob starting one with ann = %+v, %v; want room %d", again, err, dm.ID)
	}
	if len(seen.take()) != 0 {
		t.Error("finding an existing conversation should publish nothing")
	}

	group, err := s.StartConversation(ctx, cat, []string{"ann", "bob"})
	if err != nil || group.Kind != chat.KindGroup || group.ID == dm.ID || group.Members != 3 {
		t.Fatalf("group = %+v, %v", group, err)
	}
	if same, _ := s.StartConversation(ctx, bob, []string{"cat", "ann"}); same.ID != group.ID {
		t.Errorf("the same three people should find the same group, got room %d", same.ID)
	}

	joined, others, err := s.Rooms(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(joined) != 2 || len(others) != 0 {
		t.Fatalf("Bob's rooms: joined %v, others %v", joined, others)
	}
	if _, others, _ := s.Rooms(ctx, mustUser(t, s, "dan").ID); len(others) != 0 {
		t.Errorf("an outsider should not see conversations among the rooms to join: %v", others)
	}
}

func TestConversationRules(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	cat, dan := mustUser(t, s, "cat"), mustUser(t, s, "dan")
	dm, _ := s.StartConversation(ctx, ann, []string{"bob"})
	group, _ := s.StartConversation(ctx, ann, []string{"bob", "cat"})

	for _, tc := range []struct {
		name string
		err  error
		want chat.Code
	}{
		{"nobody else", second(s.StartConversation(ctx, ann, []string{"ann"})), chat.Invalid},
		{"unknown person", second(s.StartConversation(ctx, ann, []string{"bob", "zed"})), chat.NotFound},
		{"outsider joins", s.Join(ctx, dm.ID, dan), chat.NotFound},
		{"outsider leaves", s.Leave(ctx, group.ID, dan), chat.NotFound},
		{"leave a direct one", s.Leave(ctx, dm.ID, bob), chat.Invalid},
		{"remove from a group", s.RemoveMember(ctx, group.ID, bob, ann), chat.Forbidden},
	} {
		if got := chat.CodeOf(tc.err); got != tc.want || tc.err == nil {
			t.Errorf("%s: error %v (%v), want %v", tc.name, tc.err, got, tc.want)
		}
	}
	if _, err := s.PostMessage(ctx, dm.ID, dan, "let me in", ""); chat.CodeOf(err) != chat.NotFound {
		t.Errorf("an outsider posting to a conversation: %v", err)
	}

	many := make([]string, chat.MaxConversationPeople+1)
	for i := range many {
		many[i] = mustUser(t, s, "p"+string(rune('a'+i/26))+string(rune('a'+i%26))).Name
	}
	if _, err := s.StartConversation(ctx, ann, many); chat.CodeOf(err) != chat.Invalid {
		t.Errorf("%d people: %v, want a limit error", len(many), err)
	}
	if g, err := s.StartConversation(ctx, ann, many[:chat.MaxConversationPeople]); err != nil || g.Members != chat.MaxConversationPeople+1 {
		t.Errorf("%d people: %+v, %v", chat.MaxConversationPeople, g, err)
	}

	// Leaving a group renames it; the remaining pair now matches the
	// direct conversation, which keeps its key.
	if err := s.Leave(ctx, group.ID, cat); err != nil {
		t.Fatal(err)
	}
	left, _ := s.Room(ctx, group.ID)
	if left.Name != "ann, bob" || left.Members != 2 {
		t.Errorf("after cat left: %+v", left)
	}
	if r, _ := s.RoomName(ctx, group.ID); r.Name != "ann, bob" {
		t.Errorf("cached name after leaving = %q", r.Name)
	}
	if again, _ := s.StartConversation(ctx, bob, []string{"ann"}); again.ID != dm.ID {
		t.Errorf("ann and bob should still find their direct conversation %d, got %d", dm.ID, again.ID)
	}
	if msgs, _, _ := s.History(ctx, group.ID, 0, 10); len(msgs) != 1 || msgs[0].Kind != chat.KindLeave {
		t.Errorf("a group shows who left: %+v", msgs)
	}
}

func second[T any](_ T, err error) error { return err }

// A database made by an older build keeps its rooms, members and messages
// through the migration that rebuilt the rooms table, foreign keys intact.
func TestMigrationKeepsRoomsOfAnOlderSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"migrations/0001_init.sql", "migrations/0002_client_ids.sql"} {
		body, _ := migrations.ReadFile(name)
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatal(name, err)
		}
	}
	for _, stmt := range []string{
		`INSERT INTO users VALUES (1, 'ann', 'h', 1, 0)`,
		`INSERT INTO rooms VALUES (7, 'Lobby', 'hi', 1, 0)`,
		`INSERT INTO memberships VALUES (1, 7, 0)`,
		`INSERT INTO messages (room_id, author_id, kind, body, created_at) VALUES (7, 1, 0, 'old words', 0)`,
		`PRAGMA user_version = 2`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(stmt, err)
		}
	}
	db.Close()

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	room, err := s.Room(ctx, 7)
	if err != nil || room.Name != "Lobby" || room.Kind != chat.KindRoom || room.Members != 1 {
		t.Fatalf("room after migration = %+v, %v", room, err)
	}
	msgs, _, _ := s.History(ctx, 7, 0, 10)
	if len(msgs) != 1 || msgs[0].Body != "old words" {
		t.Fatalf("history after migration = %+v", msgs)
	}
	if hits, _, err := s.Search(ctx, 1, chat.SearchQuery{Words: []string{"words"}}); err != nil || len(hits) != 1 {
		t.Fatalf("messages from before search must be found: %+v, %v", hits, err)
	}
	ann, _ := s.UserByID(ctx, 1)
	if _, err := s.CreateRoom(ctx, ann, "lobby", ""); chat.CodeOf(err) != chat.Conflict {
		t.Errorf("room names must stay unique ignoring case: %v", err)
	}
	var fk int
	s.wq.QueryRowContext(context.Background(), `PRAGMA foreign_keys`).Scan(&fk)
	if fk != 1 {
		t.Error("foreign keys must be back on after migrating")
	}
}

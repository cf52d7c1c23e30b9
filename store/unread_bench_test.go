package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/rtmessenger/rtmessenger/chat"
)

// unreadFixture makes rooms rooms of perRoom messages each (from someone
// else, one in ten mentioning the reader), with the reader a member of
// all: half read to the middle, a quarter never read, the rest read. The
// messages go in with plain SQL: only the counting is measured.
func unreadFixture(tb testing.TB, rooms, perRoom int) (*Store, chat.User) {
	tb.Helper()
	ctx := context.Background()
	s, err := Open(ctx, tb.TempDir()+"/unread.db", Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	writer, err := s.CreateUser(ctx, "writer", "h")
	if err != nil {
		tb.Fatal(err)
	}
	reader, err := s.CreateUser(ctx, "reader", "h")
	if err != nil {
		tb.Fatal(err)
	}
	tx, err := s.w.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	for i := range rooms {
		var room int64
		if err := tx.QueryRow(`INSERT INTO rooms (name, created_by, created_at) VALUES (?, ?, 0) RETURNING id`,
			fmt.Sprintf("room-%04d", i), writer.ID).Scan(&room); err != nil {
			tb.Fatal(err)
		}
		for _, u := range []int64{writer.ID, reader.ID} {
			if _, err := tx.Exec(`INSERT INTO memberships (user_id, room_id, joined_at) VALUES (?, ?, 0)`, u, room); err != nil {
				tb.Fatal(err)
			}
		}
		var first int64
		for j := range perRoom {
			var id int64
			if err := tx.QueryRow(`INSERT INTO messages (room_id, author_id, kind, body, created_at) VALUES (?, ?, 0, 'hello', 0) RETURNING id`,
				room, writer.ID).Scan(&id); err != nil {
				tb.Fatal(err)
			}
			if j == 0 {
				first = id
			}
			if j%10 == 0 {
				if _, err := tx.Exec(`INSERT INTO mentions (user_id, room_id, message_id) VALUES (?, ?, ?)`, reader.ID, room, id); err != nil {
					tb.Fatal(err)
				}
			}
		}
		mark := first + int64(perRoom) // read
		switch i % 4 {
		case 0, 1:
			mark = first + int64(perRoom/2)
		case 2:
			mark = 0
		}
		if _, err := tx.Exec(`UPDATE read_marks SET last_read = ? WHERE user_id = ? AND room_id = ?`, mark, reader.ID, room); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return s, reader
}

// BenchmarkRoomsWithUnread is the sidebar of a page load: the reader's
// rooms with their unread and mention counts.
func BenchmarkRoomsWithUnread(b *testing.B) {
	for _, size := range []struct{ rooms, perRoom int }{{20, 250}, {200, 25}, {200, 500}} {
		b.Run(fmt.Sprintf("rooms=%d/messages=%d", size.rooms, size.rooms*size.perRoom), func(b *testing.B) {
			s, reader := unreadFixture(b, size.rooms, size.perRoom)
			ctx := context.Background()
			for b.Loop() {
				joined, _, err := s.Rooms(ctx, reader.ID)
				if err != nil || len(joined) != size.rooms {
					b.Fatal(len(joined), err)
				}
			}
		})
	}
}

// BenchmarkCountUnread is the counting alone, without the room list.
func BenchmarkCountUnread(b *testing.B) {
	s, reader := unreadFixture(b, 200, 500)
	ctx := context.Background()
	joined, _, err := s.Rooms(ctx, reader.ID)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := s.countUnread(ctx, reader.ID, joined); err != nil {
			b.Fatal(err)
		}
	}
}

// The fixture's counts are what the benchmark claims to count.
func TestUnreadFixtureCounts(t *testing.T) {
	s, reader := unreadFixture(t, 8, 40)
	joined, _, err := s.Rooms(context.Background(), reader.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range joined {
		want := map[int][2]int{0: {19, 1}, 1: {19, 1}, 2: {40, 4}, 3: {0, 0}}[i%4]
		if r.Unread != want[0] || r.Mentions != want[1] {
			t.Errorf("%s: %d unread, %d mentions; want %v", r.Name, r.Unread, r.Mentions, want)
		}
	}
}

// BenchmarkPostMessageWithMention is BenchmarkPostMessage for a message
// that mentions a member: the lookup and the mention row share its commit.
func BenchmarkPostMessageWithMention(b *testing.B) {
	s, u, r := benchStore(b)
	ctx := context.Background()
	bob, err := s.CreateUser(ctx, "bob", "h")
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Join(ctx, r.ID, bob); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		if m, err := s.PostMessage(ctx, r.ID, u, "a benchmark message for @bob", fmt.Sprint("c", i)); err != nil || len(m.Mentions) != 1 {
			b.Fatal(m.Mentions, err)
		}
	}
}

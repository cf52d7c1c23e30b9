package store

import (
	"context"
	"sync"
	"testing"

	"github.com/rtmessenger/rtmessenger/chat"
)

func mustPost(t testing.TB, s *Store, room int64, by chat.User, body string) chat.Message {
	t.Helper()
	m, err := s.PostMessage(context.Background(), room, by, body, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJoin(t testing.TB, s *Store, room int64, u chat.User) {
	t.Helper()
	if err := s.Join(context.Background(), room, u); err != nil {
		t.Fatal(err)
	}
}

// sidebarRoom is the room as u's sidebar counts it.
func sidebarRoom(t *testing.T, s *Store, u chat.User, room int64) chat.Room {
	t.Helper()
	joined, _, err := s.Rooms(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range joined {
		if r.ID == room {
			return r
		}
	}
	t.Fatalf("%s is not in room %d", u.Name, room)
	return chat.Room{}
}

func TestUnreadCountsOthersTextAfterTheMark(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	ann, bob, cat := mustUser(t, s, "ann"), mustUser(t, s, "bob"), mustUser(t, s, "cat")
	room := mustRoom(t, s, ann, "lobby")
	mustPost(t, s, room.ID, ann, "before bob joined")
	mustJoin(t, s, room.ID, bob)
	if r := sidebarRoom(t, s, bob, room.ID); r.Unread != 0 {
		t.Fatalf("what was there before joining counts: %d unread", r.Unread)
	}
	mustPost(t, s, room.ID, ann, "one")
	mustPost(t, s, room.ID, bob, "bob's own")
	mustJoin(t, s, room.ID, cat) // a system line
	last := mustPost(t, s, room.ID, ann, "two")
	r := sidebarRoom(t, s, bob, room.ID)
	if r.Unread != 2 || r.Mentions != 0 || r.LastID != last.ID {
		t.Fatalf("bob's room = %+v, want 2 unread (own and join lines left out) as of %d", r, last.ID)
	}
	if a := sidebarRoom(t, s, ann, room.ID); a.Unread != 1 {
		t.Errorf("ann sees %d unread, want 1 (bob's)", a.Unread)
	}

	prev, err := s.MarkReadUpTo(ctx, bob.ID, room.ID, last.ID-1)
	if err != nil {
		t.Fatal(err)
	}
	if prev == 0 || prev >= last.ID {
		t.Errorf("previous mark %d", prev)
	}
	if r := sidebarRoom(t, s, bob, room.ID); r.Unread != 1 {
		t.Errorf("after reading up to the one before last: %d unread, want 1", r.Unread)
	}
	if err := s.MarkRead(ctx, bob.ID, room.ID); err != nil {
		t.Fatal(err)
	}
	if r := sidebarRoom(t, s, bob, room.ID); r.Unread != 0 {
		t.Errorf("after reading all: %d unread", r.Unread)
	}
	// A mark past the room's newest message stops there: the next post counts.
	if _, err := s.MarkReadUpTo(ctx, bob.ID, room.ID, last.ID+1000); err != nil {
		t.Fatal(err)
	}
	mustPost(t, s, room.ID, ann, "three")
	if r := sidebarRoom(t, s, bob, room.ID); r.Unread != 1 {
		t.Errorf("a mark beyond the room hid a later message: %d unread", r.Unread)
	}
	// Outsiders cannot mark.
	other := mustRoom(t, s, ann, "other")
	if _, err := s.MarkReadUpTo(ctx, bob.ID, other.ID, 1<<40); chat.CodeOf(err) != chat.NotFound {
		t.Errorf("marking a room not joined: %v", err)
	}
}

func TestUnreadCountStopsAtTheCap(t *testing.T) {
	s := openTest(t, Options{})
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	room := mustRoom(t, s, ann, "busy")
	mustJoin(t, s, room.ID, bob)
	for i := range chat.MaxCounted + 20 {
		mustPost(t, s, room.ID, ann, "@bob number "+string(rune('a'+i%26)))
	}
	r := sidebarRoom(t, s, bob, room.ID)
	if r.Unread != chat.MaxCounted || r.Mentions != chat.MaxCounted {
		t.Errorf("counts %d and %d, want both capped at %d", r.Unread, r.Mentions, chat.MaxCounted)
	}
}

// Tabs marking at once, each up to what it showed, leave the highest mark.
func TestMarksNeverMoveBackwards(t *testing.T) {
	var mu sync.Mutex
	var reads []chat.ReadState
	s := openTest(t, Options{OnReads: func(_ int64, rs []chat.ReadState) {
		mu.Lock()
		reads = append(reads, rs...)
		mu.Unlock()
	}})
	ctx := context.Background()
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	room := mustRoom(t, s, ann, "lobby")
	mustJoin(t, s, room.ID, bob)
	var ids []int64
	for range 40 {
		ids = append(ids, mustPost(t, s, room.ID, ann, "hello").ID)
	}
	var wg sync.WaitGroup
	for i := len(ids) - 1; i >= 0; i-- { // newest first: later marks are lower
		wg.Go(func() {
			if _, err := s.MarkReadUpTo(ctx, bob.ID, room.ID, ids[i]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var mark int64
	if err := s.rq.QueryRowContext(context.Background(), `SELECT last_read FROM read_marks WHERE user_id = ? AND room_id = ?`, bob.ID, room.ID).Scan(&mark); err != nil {
		t.Fatal(err)
	}
	if mark != ids[len(ids)-1] {
		t.Fatalf("mark %d, want the highest marked, %d", mark, ids[len(ids)-1])
	}
	if r := sidebarRoom(t, s, bob, room.ID); r.Unread != 0 {
		t.Errorf("%d unread after marking all", r.Unread)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reads) == 0 {
		t.Fatal("no read state reached OnReads")
	}
	for _, st := range reads {
		if st.UserID != bob.ID || st.RoomID != room.ID || st.LastRead > ids[len(ids)-1] || st.LastID != ids[len(ids)-1] {
			t.Errorf("read state %+v", st)
		}
		if want := countAfter(ids, st.LastRead); st.Unread != want {
			t.Errorf("read state %+v: %d unread, want %d", st, st.Unread, want)
		}
	}
}

func countAfter(ids []int64, mark int64) int {
	n := 0
	for _, id := range ids {
		if id > mark {
			n++
		}
	}
	return n
}

// An announcement copy is unread in the recipient's conversation until
// they read up to it; reading it is the announcement's read receipt.
func TestAnnouncementCopiesCountAsUnread(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	boss, ann := mustUser(t, s, "boss"), mustUser(t, s, "ann")
	a, err := s.Announce(ctx, boss, chat.AnnouncementTargets{Usernames: []string{"ann"}}, "fire drill")
	if err != nil {
		t.Fatal(err)
	}
	joined, _, _ := s.Rooms(ctx, ann.ID)
	if len(joined) != 1 || joined[0].Unread != 1 {
		t.Fatalf("ann's rooms: %+v", joined)
	}
	if b := sidebarRoom(t, s, boss, joined[0].ID); b.Unread != 0 {
		t.Errorf("the sender counts their own copy: %d", b.Unread)
	}
	if _, err := s.MarkReadUpTo(ctx, ann.ID, joined[0].ID, joined[0].LastID-1); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Announcement(ctx, a.ID, boss); got.Read != 0 {
		t.Errorf("read before reading up to the copy: %+v", got)
	}
	if _, err := s.MarkReadUpTo(ctx, ann.ID, joined[0].ID, joined[0].LastID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Announcement(ctx, a.ID, boss); got.Read != 1 || got.Delivered != 1 {
		t.Errorf("after reading: %+v", got)
	}
	if r := sidebarRoom(t, s, ann, joined[0].ID); r.Unread != 0 {
		t.Errorf("%d unread after reading", r.Unread)
	}
}

// Marks for memberships from before the migration: read, except
// announcement copies still unread.
func TestMigrationStartsMarksAtWhatWasRead(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	boss, ann := mustUser(t, s, "boss"), mustUser(t, s, "ann")
	room := mustRoom(t, s, boss, "old")
	mustJoin(t, s, room.ID, ann)
	mustPost(t, s, room.ID, boss, "old news")
	if _, err := s.Announce(ctx, boss, chat.AnnouncementTargets{Usernames: []string{"ann"}}, "unread news"); err != nil {
		t.Fatal(err)
	}
	// Replay the migration's backfill over a table emptied as if new.
	if _, err := s.wq.ExecContext(context.Background(), `DELETE FROM read_marks`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wq.ExecContext(context.Background(), `
		INSERT INTO read_marks (user_id, room_id, last_read)
		SELECT m.user_id, m.room_id,
		       COALESCE((SELECT MIN(a.message_id) - 1 FROM announcement_recipients a
		                 WHERE a.user_id = m.user_id AND a.room_id = m.room_id AND a.read_at IS NULL),
		                (SELECT MAX(id) FROM messages WHERE room_id = m.room_id), 0)
		FROM memberships m`); err != nil {
		t.Fatal(err)
	}
	joined, _, _ := s.Rooms(ctx, ann.ID)
	for _, r := range joined {
		want := 0
		if r.Conversation() {
			want = 1
		}
		if r.Unread != want {
			t.Errorf("%s: %d unread, want %d", r.Name, r.Unread, want)
		}
	}
}

func TestMentionsAreStoredForMembersOnly(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	ann, bob, cat, dan := mustUser(t, s, "ann"), mustUser(t, s, "Bob"), mustUser(t, s, "cat"), mustUser(t, s, "dan")
	room := mustRoom(t, s, ann, "lobby")
	mustJoin(t, s, room.ID, bob)
	mustJoin(t, s, room.ID, cat)
	_ = dan // not a member

	m := mustPost(t, s, room.ID, cat, "hey @BOB and @dan and @ann, @ghost and @cat too")
	if m.MentionsRoom || len(m.Mentions) != 2 || m.Mentions[0] != (chat.Mention{UserID: bob.ID, Name: "Bob"}) || m.Mentions[1].UserID != ann.ID {
		t.Fatalf("mentions = %+v (room %v): want Bob and ann only", m.Mentions, m.MentionsRoom)
	}
	// History carries them, for rendering.
	hist, _, _ := s.History(ctx, room.ID, 0, 10)
	if got := hist[len(hist)-1]; got.ID != m.ID || len(got.Mentions) != 2 || got.MentionIDs() != m.MentionIDs() {
		t.Errorf("history's copy: %+v", got)
	}
	for _, tc := range []struct {
		u    chat.User
		want int
	}{{ann, 1}, {bob, 1}, {cat, 0}} {
		if r := sidebarRoom(t, s, tc.u, room.ID); r.Mentions != tc.want {
			t.Errorf("%s: %d mentions, want %d", tc.u.Name, r.Mentions, tc.want)
		}
	}
	got, _, _ := s.MentionsOf(ctx, dan.ID, 0, 10)
	if len(got) != 0 {
		t.Errorf("a non-member has mentions: %+v", got)
	}
	// A post refused (not a member) stores no mentions.
	if _, err := s.PostMessage(ctx, room.ID, dan, "@bob let me in", ""); chat.CodeOf(err) != chat.Forbidden {
		t.Fatalf("non-member post: %v", err)
	}
	if got, _, _ := s.MentionsOf(ctx, bob.ID, 0, 10); len(got) != 1 || got[0].ID != m.ID {
		t.Errorf("bob's mentions: %+v", got)
	}
	// Reading past it clears the count; the list keeps it.
	if err := s.MarkRead(ctx, bob.ID, room.ID); err != nil {
		t.Fatal(err)
	}
	if r := sidebarRoom(t, s, bob, room.ID); r.Mentions != 0 {
		t.Errorf("%d mentions after reading", r.Mentions)
	}
	// Leaving the room takes its mentions off the list.
	if err := s.Leave(ctx, room.ID, bob); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.MentionsOf(ctx, bob.ID, 0, 10); len(got) != 0 {
		t.Errorf("mentions from a room left: %+v", got)
	}
}

func TestMentionRoomOnlyForCreatorsAndAdmins(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	admin, ann, bob, cat := mustUser(t, s, "admin"), mustUser(t, s, "ann"), mustUser(t, s, "bob"), mustUser(t, s, "cat")
	room := mustRoom(t, s, ann, "lobby")
	for _, u := range []chat.User{admin, bob, cat} {
		mustJoin(t, s, room.ID, u)
	}
	if !admin.Admin {
		t.Fatal("the first account should be an admin")
	}
	for _, tc := range []struct {
		by   chat.User
		want bool
	}{{ann, true}, {admin, true}, {bob, false}} {
		m := mustPost(t, s, room.ID, tc.by, "@room lunch?")
		if m.MentionsRoom != tc.want {
			t.Errorf("@room by %s: %v, want %v", tc.by.Name, m.MentionsRoom, tc.want)
		}
		hist, _, _ := s.History(ctx, room.ID, 0, 1)
		if hist[0].MentionsRoom != tc.want {
			t.Errorf("@room by %s in history: %v", tc.by.Name, hist[0].MentionsRoom)
		}
	}
	// cat is mentioned by ann's and admin's; ann by admin's only (never by her own).
	for _, tc := range []struct {
		u    chat.User
		want int
	}{{cat, 2}, {ann, 1}, {admin, 1}, {bob, 2}} {
		if got, _, _ := s.MentionsOf(ctx, tc.u.ID, 0, 10); len(got) != tc.want {
			t.Errorf("%s has %d mentions, want %d", tc.u.Name, len(got), tc.want)
		}
	}
	// A room admin the creator appointed may use it too.
	if _, err := s.wq.ExecContext(context.Background(), `UPDATE memberships SET room_admin = TRUE WHERE user_id = ? AND room_id = ?`, bob.ID, room.ID); err != nil {
		t.Fatal(err)
	}
	if m := mustPost(t, s, room.ID, bob, "@room now"); !m.MentionsRoom {
		t.Error("a room admin's @room")
	}
}

func TestMentionsOfPagesNewestFirst(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	room := mustRoom(t, s, ann, "lobby")
	mustJoin(t, s, room.ID, bob)
	var ids []int64
	for range 7 {
		ids = append(ids, mustPost(t, s, room.ID, ann, "ping @bob").ID)
		mustPost(t, s, room.ID, ann, "no mention")
	}
	page, more, err := s.MentionsOf(ctx, bob.ID, 0, 5)
	if err != nil || !more || len(page) != 5 || page[0].ID != ids[6] || page[4].ID != ids[2] {
		t.Fatalf("first page: %v %v %+v", err, more, page)
	}
	page, more, _ = s.MentionsOf(ctx, bob.ID, page[4].ID, 5)
	if more || len(page) != 2 || page[0].ID != ids[1] || page[1].ID != ids[0] {
		t.Errorf("second page: %v %+v", more, page)
	}
}

func TestMentionCandidates(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	ann := mustUser(t, s, "ann")
	room := mustRoom(t, s, ann, "lobby")
	for _, n := range []string{"alice", "Albert", "al_x", "alxy", "bob"} {
		mustJoin(t, s, room.ID, mustUser(t, s, n))
	}
	mustUser(t, s, "alan") // not a member
	got, err := s.MentionCandidates(ctx, room.ID, ann.ID, "AL", 8)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, p.Name)
	}
	if want := "al_x Albert alice alxy"; join(names) != want {
		t.Errorf("candidates for AL: %q, want %q", join(names), want)
	}
	if got, _ := s.MentionCandidates(ctx, room.ID, ann.ID, "al_", 8); len(got) != 1 {
		t.Errorf("_ must match itself only: %+v", got)
	}
	if got, _ := s.MentionCandidates(ctx, room.ID, ann.ID, "", 3); len(got) != 3 {
		t.Errorf("limit: %d", len(got))
	}
	if got, _ := s.MentionCandidates(ctx, room.ID, ann.ID, "ann", 8); len(got) != 0 {
		t.Errorf("the viewer suggested to themselves: %+v", got)
	}
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

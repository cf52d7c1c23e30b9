package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openTest(t *testing.T, opt Options) *Store {
	t.Helper()
	s, err := openEngine(t, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// mustUsers creates many accounts in one transaction, for tests that
// need thousands: one CreateUser each would make this a test of commits.
func mustUsers(tb testing.TB, s *Store, names []string) []chat.User {
	tb.Helper()
	ctx := context.Background()
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		for _, name := range names {
			if _, err := q.ExecContext(ctx, `
				INSERT INTO users (username, password_hash, is_admin, created_at)
				VALUES (?, 'x', NOT EXISTS (SELECT 1 FROM users), ?)`, name, millis(now)); err != nil {
				return nil, fmt.Errorf("create user %q: %w", name, err)
			}
		}
		return nil, nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	users := make([]chat.User, len(names))
	for i, name := range names {
		if users[i], _, err = s.UserByName(ctx, name); err != nil {
			tb.Fatal(err)
		}
	}
	return users
}

func mustUser(t *testing.T, s *Store, name string) chat.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), name, "hash-"+name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustRoom(t *testing.T, s *Store, by chat.User, name string) chat.Room {
	t.Helper()
	r, err := s.CreateRoom(context.Background(), by, name, "topic of "+name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.sqlite")
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, "alice", "h"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, Options{SyncFull: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.UserByName(ctx, "ALICE"); err != nil {
		t.Fatalf("user lost across reopen: %v", err)
	}
	var mode string
	if err := s.rq.QueryRowContext(context.Background(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestOpenRejectsPathWithQuery(t *testing.T) {
	if _, err := Open(context.Background(), "x.db?mode=memory", Options{}); err == nil {
		t.Fatal("want error for a path holding '?'")
	}
}

func TestFirstUserIsAdminAndNamesAreUniqueIgnoringCase(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	a := mustUser(t, s, "Alice")
	b := mustUser(t, s, "bob")
	if !a.Admin || b.Admin {
		t.Fatalf("admin flags: first %v, second %v; want true, false", a.Admin, b.Admin)
	}
	_, err := s.CreateUser(ctx, "alice", "h")
	if chat.CodeOf(err) != chat.Conflict || chat.FieldOf(err) != "username" {
		t.Fatalf("duplicate username: got %v (code %v), want conflict on username", err, chat.CodeOf(err))
	}
	u, hash, err := s.UserByName(ctx, "ALICE")
	if err != nil || u.ID != a.ID || hash != "hash-Alice" {
		t.Fatalf("UserByName = %+v, %q, %v", u, hash, err)
	}
	if _, err := s.UserByID(ctx, 999); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("missing user: %v", err)
	}
}

// Until the first account exists the next one becomes the admin, which
// the server tells whoever starts it on an empty database.
func TestHasUsersOnceTheFirstAdminExists(t *testing.T) {
	s := openTest(t, Options{})
	if has, err := s.HasUsers(context.Background()); err != nil || has {
		t.Fatalf("empty database: HasUsers = %v, %v", has, err)
	}
	if u := mustUser(t, s, "alice"); !u.Admin {
		t.Fatal("the first account is not the admin")
	}
	if has, err := s.HasUsers(context.Background()); err != nil || !has {
		t.Fatalf("after the first account: HasUsers = %v, %v", has, err)
	}
}

func TestCreateJoinLeaveRecordSystemLines(t *testing.T) {
	var mu sync.Mutex
	var committed []chat.Message
	s := openTest(t, Options{OnCommit: func(ms []chat.Message) {
		mu.Lock()
		committed = append(committed, ms...)
		mu.Unlock()
	}})
	ctx := context.Background()
	alice, bob := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	room := mustRoom(t, s, alice, "general")
	if _, err := s.CreateRoom(ctx, bob, "GENERAL", ""); chat.CodeOf(err) != chat.Conflict {
		t.Fatalf("duplicate room name: %v", err)
	}
	for range 2 { // a second join is a no-op
		if err := s.Join(ctx, room.ID, bob); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Leave(ctx, room.ID, bob); err != nil {
		t.Fatal(err)
	}
	if err := s.Leave(ctx, room.ID, bob); err != nil {
		t.Fatalf("leaving twice: %v", err)
	}
	if err := s.Join(ctx, 404, bob); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("join missing room: %v", err)
	}
	want := []struct {
		kind    chat.Kind
		author  string
		members int // after the change, as the commit hook reports it
	}{{chat.KindJoin, "alice", 1}, {chat.KindJoin, "bob", 2}, {chat.KindLeave, "bob", 1}}
	hist, _, err := s.History(ctx, room.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, got := range [][]chat.Message{hist, committed} {
		if len(got) != len(want) {
			t.Fatalf("got %d lines, want %d: %+v", len(got), len(want), got)
		}
		for i, w := range want {
			if got[i].Kind != w.kind || got[i].Author != w.author || got[i].RoomID != room.ID {
				t.Errorf("line %d = %+v, want kind %v by %s", i, got[i], w.kind, w.author)
			}
		}
	}
	for i, w := range want {
		if committed[i].Members != w.members {
			t.Errorf("committed line %d reports %d members, want %d", i, committed[i].Members, w.members)
		}
	}
	joined, others, err := s.Rooms(ctx, bob.ID)
	if err != nil || len(joined) != 0 || len(others) != 1 || others[0].Members != 1 {
		t.Fatalf("bob's rooms: joined %+v others %+v err %v", joined, others, err)
	}
}

func TestPostRequiresMembership(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	alice, bob := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	room := mustRoom(t, s, alice, "general")
	if _, err := s.PostMessage(ctx, room.ID, bob, "hi", ""); chat.CodeOf(err) != chat.Forbidden {
		t.Fatalf("non-member post: %v", err)
	}
	if _, err := s.PostMessage(ctx, 999, alice, "hi", ""); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("post to missing room: %v", err)
	}
	m, err := s.PostMessage(ctx, room.ID, alice, "line one\nline two", "")
	if err != nil {
		t.Fatal(err)
	}
	if m.ID == 0 || m.Author != "alice" || m.Body != "line one\nline two" || m.Kind != chat.KindText {
		t.Fatalf("posted %+v", m)
	}
}

func TestHistoryPagesByCursor(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	alice := mustUser(t, s, "alice")
	room := mustRoom(t, s, alice, "general")
	for i := range 120 {
		if _, err := s.PostMessage(ctx, room.ID, alice, fmt.Sprint(i), ""); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	before := int64(0)
	for page := 0; ; page++ {
		msgs, more, err := s.History(ctx, room.ID, before, 50)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(msgs); i++ {
			if msgs[i].ID <= msgs[i-1].ID {
				t.Fatalf("page %d not oldest-first", page)
			}
		}
		var bodies []string
		for _, m := range msgs {
			bodies = append(bodies, m.Body)
		}
		seen = append(bodies, seen...)
		if !more {
			break
		}
		before = msgs[0].ID
	}
	// 121 lines: the creator's join line plus 120 posts.
	if len(seen) != 121 || seen[1] != "0" || seen[120] != "119" {
		t.Fatalf("paged %d lines: first %q last %q", len(seen), seen[1], seen[len(seen)-1])
	}
}

func TestMissedCoversOnlyCurrentRooms(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	alice, bob := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	shared := mustRoom(t, s, alice, "shared")
	private := mustRoom(t, s, alice, "alice-only")
	if err := s.Join(ctx, shared.ID, bob); err != nil {
		t.Fatal(err)
	}
	start, err := s.LatestID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for i := range 5 {
		m, err := s.PostMessage(ctx, shared.ID, alice, fmt.Sprint("shared ", i), "")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, m.ID)
		if _, err := s.PostMessage(ctx, private.ID, alice, "secret", ""); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Missed(ctx, bob.ID, start, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("bob missed %d messages, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].ID != want[i] {
			t.Fatalf("missed[%d] = %d, want %d", i, got[i].ID, want[i])
		}
	}
	if got, _ := s.Missed(ctx, bob.ID, start, 2); len(got) != 2 || got[1].ID != want[1] {
		t.Fatalf("limit 2 gave %+v", got)
	}
}

// Concurrent posters share transactions, yet every post gets its own row and
// the commit hook sees ids strictly increasing: the order the hub publishes.
func TestGroupCommitKeepsEveryPostAndOrder(t *testing.T) {
	var mu sync.Mutex
	var ids []int64
	s := openTest(t, Options{OnCommit: func(ms []chat.Message) {
		mu.Lock()
		for _, m := range ms {
			ids = append(ids, m.ID)
		}
		mu.Unlock()
	}})
	ctx := context.Background()
	alice := mustUser(t, s, "alice")
	room := mustRoom(t, s, alice, "general")
	const writers, each = 50, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.PostMessage(ctx, room.ID, alice, fmt.Sprintf("%d/%d", w, i), ""); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("post failed under concurrency: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != writers*each+1 {
		t.Fatalf("hook saw %d messages, want %d", len(ids), writers*each+1)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("hook order broken at %d: %d after %d", i, ids[i], ids[i-1])
		}
	}
}

func TestWriteAfterCloseFails(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(context.Background(), "late", "h"); err != ErrClosed {
		t.Fatalf("write after close: %v, want ErrClosed", err)
	}
}

func TestSessions(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t, Options{Now: func() time.Time { return now }})
	ss := s.Sessions()
	if err := ss.Commit("tok", []byte("data"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := ss.Commit("old", []byte("x"), now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if b, ok, err := ss.Find("tok"); err != nil || !ok || string(b) != "data" {
		t.Fatalf("Find = %q %v %v", b, ok, err)
	}
	if err := ss.Commit("tok", []byte("changed"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if b, _, _ := ss.Find("tok"); string(b) != "changed" {
		t.Fatalf("after a change Find = %q (a stale cache?)", b)
	}
	if _, ok, _ := ss.Find("old"); ok {
		t.Fatal("expired session found")
	}
	if n, err := s.DeleteExpiredSessions(context.Background()); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions = %d, %v", n, err)
	}
	if err := ss.Delete("tok"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ss.Find("tok"); ok {
		t.Fatal("deleted session found")
	}
}

func TestClientIDMakesPostingIdempotent(t *testing.T) {
	var mu sync.Mutex
	published := 0
	s := openTest(t, Options{OnCommit: func(ms []chat.Message) {
		mu.Lock()
		published += len(ms)
		mu.Unlock()
	}})
	ctx := context.Background()
	alice := mustUser(t, s, "alice")
	room := mustRoom(t, s, alice, "general")
	other := mustRoom(t, s, alice, "other")
	mu.Lock()
	published = 0
	mu.Unlock()

	// A burst of identical submits, as from a double click or retries.
	var wg sync.WaitGroup
	got := make([]chat.Message, 10)
	errs := make([]error, 10)
	for i := range got {
		wg.Go(func() { got[i], errs[i] = s.PostMessage(ctx, room.ID, alice, "once", "cid-1") })
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i].ID != got[0].ID || got[i].Body != "once" {
			t.Fatalf("attempt %d: %+v, %v (first %+v)", i, got[i], errs[i], got[0])
		}
	}
	hist, _, _ := s.History(ctx, room.ID, 0, 50)
	if n := len(hist); n != 2 { // the creator's join line and one message
		t.Fatalf("room holds %d lines, want 2", n)
	}
	mu.Lock()
	if published != 1 {
		t.Errorf("published %d times, want once", published)
	}
	mu.Unlock()

	if _, err := s.PostMessage(ctx, other.ID, alice, "elsewhere", "cid-1"); chat.CodeOf(err) != chat.Conflict {
		t.Fatalf("same id in another room: %v", err)
	}
	bob := mustUser(t, s, "bob")
	if err := s.Join(ctx, room.ID, bob); err != nil {
		t.Fatal(err)
	}
	if m, err := s.PostMessage(ctx, room.ID, bob, "bob's own", "cid-1"); err != nil || m.ID == got[0].ID {
		t.Fatalf("ids are per author: %+v, %v", m, err)
	}
	if a, _ := s.PostMessage(ctx, room.ID, alice, "no id", ""); a.ID == 0 {
		t.Fatal("post without id failed")
	}
	if b, _ := s.PostMessage(ctx, room.ID, alice, "no id", ""); b.Body != "no id" {
		t.Fatal("a second post without id must be stored too")
	}
	if hist, _, _ := s.History(ctx, room.ID, 0, 50); len(hist) != 6 {
		t.Fatalf("room holds %d lines, want 6", len(hist))
	}
	// A resend after leaving learns nothing new of the room: it is
	// refused as any post from outside, not answered with the message.
	if err := s.Leave(ctx, room.ID, bob); err != nil {
		t.Fatal(err)
	}
	if m, err := s.PostMessage(ctx, room.ID, bob, "bob's own", "cid-1"); chat.CodeOf(err) != chat.Forbidden || m.ID != 0 {
		t.Fatalf("a resend after leaving: %+v, %v; want refused as a non-member's post", m, err)
	}
}

func TestRemoveMemberChecksRightsInTheTransaction(t *testing.T) {
	var mu sync.Mutex
	var lines []chat.Message
	s := openTest(t, Options{OnCommit: func(ms []chat.Message) {
		mu.Lock()
		lines = append(lines, ms...)
		mu.Unlock()
	}})
	ctx := context.Background()
	root := mustUser(t, s, "root")
	alice, bob := mustUser(t, s, "alice"), mustUser(t, s, "bob")
	room := mustRoom(t, s, alice, "club")
	if room.CreatedBy != alice.ID {
		t.Fatalf("CreatedBy = %d", room.CreatedBy)
	}
	if err := s.Join(ctx, room.ID, bob); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(ctx, room.ID, alice, bob); chat.CodeOf(err) != chat.Forbidden {
		t.Fatalf("member removing the creator: %v", err)
	}
	if err := s.RemoveMember(ctx, room.ID, root, alice); chat.CodeOf(err) != chat.NotFound {
		t.Fatalf("removing a non-member: %v", err)
	}
	if err := s.RemoveMember(ctx, room.ID, bob, root); err != nil {
		t.Fatalf("admin removes bob: %v", err)
	}
	members, err := s.Members(ctx, room.ID)
	if err != nil || len(members) != 1 || members[0].User.Name != "alice" {
		t.Fatalf("members after removal: %+v %v", members, err)
	}
	mu.Lock()
	defer mu.Unlock()
	last := lines[len(lines)-1]
	if last.Kind != chat.KindRemoved || last.AuthorID != bob.ID || last.Body != "root" || last.Members != 1 || !last.Kind.Leaves() {
		t.Fatalf("removal line %+v", last)
	}
}

// Statements are prepared lazily. Writes outside the group commit (session
// saves) prepare on the writer's one connection while batches hold it; that
// must never deadlock, however the two interleave on a fresh store.
func TestLazyStatementsNeverDeadlockTheWriter(t *testing.T) {
	for round := range 5 {
		s := openTest(t, Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		alice := mustUser(t, s, fmt.Sprint("alice", round))
		room := mustRoom(t, s, alice, "general")
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				if err := s.Sessions().CommitCtx(ctx, fmt.Sprint("tok", i), []byte("x"), time.Now().Add(time.Hour)); err != nil {
					t.Error(err)
				}
			})
			wg.Go(func() {
				if _, err := s.PostMessage(ctx, room.ID, alice, "hi", fmt.Sprint("c", i)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ctx.Err() != nil {
			t.Fatal("writes did not finish: deadlock")
		}
		cancel()
	}
}

// A caller that gives up while its post waits in the writer's queue still
// gets the true outcome: a committed row is never reported as a failure,
// and (under -race) no result is read while the writer fills it in.
func TestCancelledPostsReportWhatHappened(t *testing.T) {
	s := openTest(t, Options{})
	alice := mustUser(t, s, "alice")
	room := mustRoom(t, s, alice, "general")
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[int64]string{}
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%10)*50*time.Microsecond)
				body := fmt.Sprintf("%d/%d", w, i)
				m, err := s.PostMessage(ctx, room.ID, alice, body, "")
				cancel()
				if err == nil {
					mu.Lock()
					acked[m.ID] = body
					mu.Unlock()
				} else if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("post %s: %v", body, err)
				}
			}
		})
	}
	wg.Wait()
	stored, _, err := s.History(context.Background(), room.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]string{}
	for _, m := range stored {
		if m.Kind == chat.KindText {
			got[m.ID] = m.Body
		}
	}
	if len(got) != len(acked) {
		t.Errorf("%d posts stored but %d acknowledged: a caller was told a stored post failed", len(got), len(acked))
	}
	for id, body := range acked {
		if got[id] != body {
			t.Fatalf("post %d acknowledged as %q, stored as %q", id, body, got[id])
		}
	}
	if len(acked) == 0 {
		t.Fatal("no post got through: the test proves nothing")
	}
	t.Logf("%d of 800 posts acknowledged, %d stored", len(acked), len(got))
}

// The idempotency index leads with the client id: ids the server hands out
// begin with the time, so a commit's new posts share the index's last
// pages instead of dirtying one page per author (BenchmarkPostManyRoomsParallel
// measures the bytes written).
func TestIdempotencyIndexLeadsWithTheClientID(t *testing.T) {
	sqliteOnly(t)
	s := openTest(t, Options{})
	var first string
	err := s.r.QueryRow(`SELECT name FROM pragma_index_info('messages_by_client_id') WHERE seqno = 0`).Scan(&first)
	if err != nil || first != "client_id" {
		t.Fatalf("index leads with %q (%v), want client_id", first, err)
	}
}

package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

func search(t *testing.T, s *Store, user int64, q chat.SearchQuery) ([]int64, bool) {
	t.Helper()
	hits, more, err := s.Search(context.Background(), user, q)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.Message.ID
	}
	return ids, more
}

func words(s string) []string { return strings.Fields(s) }

func TestSearchRanksFiltersAndPages(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	ann, ben := mustUser(t, s, "ann"), mustUser(t, s, "ben")
	lobby, side := mustRoom(t, s, ann, "lobby"), mustRoom(t, s, ann, "side")
	if err := s.Join(ctx, lobby.ID, ben); err != nil {
		t.Fatal(err)
	}
	long := mustPost(t, s, lobby.ID, ann, "the deploy went out with a long tail of other words that dilute it a lot")
	short := mustPost(t, s, lobby.ID, ben, "deploy deploy")
	inSide := mustPost(t, s, side.ID, ann, "we deploy tomorrow at nine or so, after the review")
	mustPost(t, s, lobby.ID, ben, "nothing to see")

	ids, more := search(t, s, ann.ID, chat.SearchQuery{Words: words("deploy")})
	if len(ids) != 3 || ids[0] != short.ID || !slices.Contains(ids, long.ID) || !slices.Contains(ids, inSide.ID) || more {
		t.Errorf("deploy: %v (more %v), want %d (dense) first, then %d and %d", ids, more, short.ID, long.ID, inSide.ID)
	}
	if ids, _ := search(t, s, ann.ID, chat.SearchQuery{Words: words("DEPLOY went")}); !slices.Equal(ids, []int64{long.ID}) {
		t.Errorf("every word must match, ignoring case: %v", ids)
	}
	if ids, _ := search(t, s, ann.ID, chat.SearchQuery{Words: words("deploy"), Room: side.ID}); !slices.Equal(ids, []int64{inSide.ID}) {
		t.Errorf("room filter: %v", ids)
	}
	if ids, _ := search(t, s, ann.ID, chat.SearchQuery{Words: words("deploy"), Author: "BEN"}); !slices.Equal(ids, []int64{short.ID}) {
		t.Errorf("author filter: %v", ids)
	}
	if ids, _ := search(t, s, ann.ID, chat.SearchQuery{Words: words("deploy"), Author: "nobody"}); len(ids) != 0 {
		t.Errorf("unknown author: %v", ids)
	}
	if ids, _ := search(t, s, ann.ID, chat.SearchQuery{Words: words("deploy"), Before: long.Sent.Add(-time.Second)}); len(ids) != 0 {
		t.Errorf("before filter: %v", ids)
	}

	var posted []int64
	for i := range chat.SearchPageSize + 5 {
		posted = append(posted, mustPost(t, s, side.ID, ann, fmt.Sprintf("paging word %d", i)).ID)
	}
	first, more := search(t, s, ann.ID, chat.SearchQuery{Words: words("paging")})
	second, more2 := search(t, s, ann.ID, chat.SearchQuery{Words: words("paging"), Page: 1})
	if len(first) != chat.SearchPageSize || !more || len(second) != 5 || more2 {
		t.Fatalf("pages of %d (more %v) and %d (more %v)", len(first), more, len(second), more2)
	}
	all := slices.Concat(first, second)
	slices.Sort(all)
	if !slices.Equal(all, posted) {
		t.Errorf("the pages together are not every match once: %v", all)
	}
	if !slices.IsSortedFunc(first, func(a, b int64) int { return int(b - a) }) {
		t.Errorf("equal ranks must come newest first: %v", first)
	}
}

func TestSearchSnippetMarksMatches(t *testing.T) {
	s := openTest(t, Options{})
	ann := mustUser(t, s, "ann")
	room := mustRoom(t, s, ann, "lobby")
	mustPost(t, s, room.ID, ann, `<b>"quoted"</b> AND NEAR(x) * -col:thing "`)
	hits, _, err := s.Search(context.Background(), ann.ID, chat.SearchQuery{Words: words("quoted")})
	if err != nil || len(hits) != 1 {
		t.Fatalf("%+v, %v", hits, err)
	}
	var marked []string
	var text strings.Builder
	for _, sp := range hits[0].Snippet {
		if sp.Match {
			marked = append(marked, sp.Text)
		}
		text.WriteString(sp.Text)
	}
	if !slices.Equal(marked, []string{"quoted"}) || text.String() != hits[0].Message.Body {
		t.Errorf("snippet %+v", hits[0].Snippet)
	}
	// FTS5 syntax in what someone types is only words.
	for _, q := range []string{`AND`, `"`, `NEAR(x)`, `-col:thing`, `*`, `b OR`, `x*`} {
		w, err := chat.SearchWords(q)
		if err != nil {
			continue // nothing to search for: refused before the store
		}
		if _, _, err := s.Search(context.Background(), ann.ID, chat.SearchQuery{Words: w}); err != nil {
			t.Errorf("%q: %v", q, err)
		}
	}
}

// Nothing from a room the searcher is not in now: not other public rooms,
// not private rooms or others' conversations, not rooms they left, not
// system lines. Asking for such a room by id is "no such room".
func TestSearchShowsOnlyTheSearchersRooms(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	ann, ben, cat := mustUser(t, s, "ann"), mustUser(t, s, "ben"), mustUser(t, s, "cat")
	lobby, other := mustRoom(t, s, ann, "lobby"), mustRoom(t, s, ben, "other")
	vault := mustPrivate(t, s, ben, "vault")
	dm, err := s.StartConversation(ctx, ben, []string{"cat"})
	if err != nil {
		t.Fatal(err)
	}
	mine := mustPost(t, s, lobby.ID, ann, "secret plans")
	for _, r := range []int64{other.ID, vault.ID, dm.ID} {
		mustPost(t, s, r, ben, "secret plans")
	}
	if ids, _ := search(t, s, ann.ID, chat.SearchQuery{Words: words("secret")}); !slices.Equal(ids, []int64{mine.ID}) {
		t.Errorf("ann sees %v, want only %d", ids, mine.ID)
	}
	for _, r := range []int64{other.ID, vault.ID, dm.ID} {
		if _, _, err := s.Search(ctx, ann.ID, chat.SearchQuery{Words: words("secret"), Room: r}); chat.CodeOf(err) != chat.NotFound {
			t.Errorf("room %d asked for by an outsider: %v", r, err)
		}
	}
	if ids, _ := search(t, s, cat.ID, chat.SearchQuery{Words: words("secret")}); len(ids) != 1 {
		t.Errorf("cat sees her conversation only: %v", ids)
	}
	// Joins and leaves are system lines: their text is never found.
	if err := s.Join(ctx, lobby.ID, ben); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wq.ExecContext(context.Background(), `INSERT INTO messages (room_id, author_id, kind, body, created_at) VALUES (?, ?, ?, 'secret system line', 0)`,
		lobby.ID, ben.ID, chat.KindJoin); err != nil {
		t.Fatal(err)
	}
	if ids, _ := search(t, s, ann.ID, chat.SearchQuery{Words: words("system")}); len(ids) != 0 {
		t.Errorf("a system line was found: %v", ids)
	}
	if ids, _ := search(t, s, ben.ID, chat.SearchQuery{Words: words("secret")}); len(ids) != 4 {
		t.Errorf("ben, in every room, sees %v", ids)
	}
	if err := s.Leave(ctx, lobby.ID, ben); err != nil {
		t.Fatal(err)
	}
	if ids, _ := search(t, s, ben.ID, chat.SearchQuery{Words: words("secret")}); slices.Contains(ids, mine.ID) || len(ids) != 3 {
		t.Errorf("after leaving the lobby ben sees %v", ids)
	}
	if _, _, err := s.Search(ctx, ben.ID, chat.SearchQuery{Words: words("secret"), Room: lobby.ID}); chat.CodeOf(err) != chat.NotFound {
		t.Errorf("the lobby asked for after leaving it: %v", err)
	}
}

// indexed lists the index's (message, word) pairs, as fts5vocab reads
// them from the index itself, and want the pairs the messages' current
// text gives: after any change they must be the same.
func indexed(t *testing.T, s *Store) (got, want []string) {
	t.Helper()
	ctx := context.Background()
	conn, err := s.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_words USING fts5vocab(main, messages_fts, instance)`); err != nil {
		t.Fatal(err)
	}
	read := func(query string) []string {
		rows, err := conn.QueryContext(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id int64
			var text string
			if err := rows.Scan(&id, &text); err != nil {
				t.Fatal(err)
			}
			for _, w := range strings.Fields(text) {
				out = append(out, fmt.Sprintf("%d:%s", id, strings.ToLower(w)))
			}
		}
		sort.Strings(out)
		return slices.Compact(out)
	}
	got = read(`SELECT doc, term FROM temp.fts_words WHERE col = 'body'`)
	want = read(`SELECT id, body FROM messages WHERE kind IN (0, 4)`)
	return got, want
}

// Edits UPDATE body and deletes clear it (message edit and delete do so):
// the index follows both in the same statement, and a row deleted outright.
func TestSearchIndexFollowsEditsAndDeletes(t *testing.T) {
	s := openTest(t, Options{})
	ann := mustUser(t, s, "ann")
	room := mustRoom(t, s, ann, "lobby")
	edited := mustPost(t, s, room.ID, ann, "typo in this message")
	cleared := mustPost(t, s, room.ID, ann, "regret saying this")
	dropped := mustPost(t, s, room.ID, ann, "gone entirely")
	kept := mustPost(t, s, room.ID, ann, "this message stays")
	// The edits below are raw SQL, not the store's edit (which has the
	// index caught up first): catch it up as that would.
	if err := s.indexForSearch(context.Background()); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		what, sql string
		id        int64
	}{
		{"edit", `UPDATE messages SET body = 'fixed in this message' WHERE id = ?`, edited.ID},
		{"edit to the same text", `UPDATE messages SET body = body WHERE id = ?`, kept.ID},
		{"delete (body cleared)", `UPDATE messages SET body = '' WHERE id = ?`, cleared.ID},
		{"clear again", `UPDATE messages SET body = '' WHERE id = ?`, cleared.ID},
		{"row deleted", `DELETE FROM messages WHERE id = ?`, dropped.ID},
	}
	for _, st := range steps {
		if _, err := s.wq.ExecContext(context.Background(), st.sql, st.id); err != nil {
			t.Fatal(st.what, err)
		}
		if onPostgres() {
			continue // the index is a generated column: it cannot disagree
		}
		if got, want := indexed(t, s); !slices.Equal(got, want) {
			t.Fatalf("after %s the index holds %v, the messages say %v", st.what, got, want)
		}
	}
	for q, want := range map[string][]int64{
		"typo": nil, "fixed": {edited.ID}, "regret": nil, "gone": nil, "message": {kept.ID, edited.ID},
	} {
		ids, _ := search(t, s, ann.ID, chat.SearchQuery{Words: words(q)})
		sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] })
		if !slices.Equal(ids, want) {
			t.Errorf("%q finds %v, want %v", q, ids, want)
		}
	}
	if onPostgres() {
		return
	}
	if _, err := s.wq.ExecContext(context.Background(), `INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 0)`); err != nil {
		t.Errorf("the index is damaged: %v", err)
	}
}

func TestAroundAMessage(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	ann := mustUser(t, s, "ann")
	room, other := mustRoom(t, s, ann, "lobby"), mustRoom(t, s, ann, "other")
	var ids []int64
	for i := range 9 {
		ids = append(ids, mustPost(t, s, room.ID, ann, fmt.Sprint("m", i)).ID)
	}
	msgs, older, newer, err := s.Around(ctx, room.ID, ids[4], 2)
	var got []int64
	for _, m := range msgs {
		got = append(got, m.ID)
	}
	if err != nil || !slices.Equal(got, ids[2:7]) || !older || !newer {
		t.Errorf("around %d: %v older %v newer %v, %v; want %v", ids[4], got, older, newer, err, ids[2:7])
	}
	if msgs, _, newer, _ := s.Around(ctx, room.ID, ids[8], 2); len(msgs) != 3 || newer {
		t.Errorf("around the newest: %d messages, newer %v", len(msgs), newer)
	}
	for _, q := range []struct{ room, id int64 }{{other.ID, ids[4]}, {room.ID, ids[8] + 100}} {
		if _, _, _, err := s.Around(ctx, q.room, q.id, 2); chat.CodeOf(err) != chat.NotFound {
			t.Errorf("message %d in room %d: %v, want not found", q.id, q.room, err)
		}
	}
}

// The writer indexes new messages now and then (textindex.go); a batch
// that edits or deletes one of them (someone guessed the next id) must
// index it before the edit's trigger updates the index.
func TestABatchThatPostsAndEditsKeepsTheIndexWhole(t *testing.T) {
	sqliteOnly(t)
	s := openTest(t, Options{})
	ctx := context.Background()
	ann := mustUser(t, s, "ann")
	room := mustRoom(t, s, ann, "lobby")
	var posted int64
	post := &op{run: func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		m, err := insertMessage(ctx, q, room.ID, ann, chat.KindText, "first draft words", "", now)
		posted = m.ID
		return []chat.Message{m}, err
	}}
	edit := &op{text: true, run: func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		_, err := q.ExecContext(ctx, `UPDATE messages SET body = 'second thoughts' WHERE id = ?`, posted)
		return nil, err
	}}
	later := &op{run: func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		m, err := insertMessage(ctx, q, room.ID, ann, chat.KindText, "a later message", "", now)
		return []chat.Message{m}, err
	}}
	tx, err := s.w.BeginTx(ctx, nil) // the writer is idle: its connection is free
	if err != nil {
		t.Fatal(err)
	}
	if err := s.runBatch(ctx, s.wq.in(tx), []*op{post, edit, later}, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, o := range []*op{post, edit, later} {
		if o.err != nil {
			t.Fatal(o.err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	s.text.end(true)
	// The later message waits for the next catch-up (textindex.go).
	if got, want := indexed(t, s); !slices.Equal(got, want[:len(want)-3]) {
		t.Fatalf("the index holds %v, the messages before the later one say %v", got, want)
	}
	if err := s.indexForSearch(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := indexed(t, s); !slices.Equal(got, want) {
		t.Fatalf("the index holds %v, the messages say %v", got, want)
	}
	if _, err := s.wq.ExecContext(ctx, `INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 0)`); err != nil {
		t.Errorf("the index is damaged: %v", err)
	}
	for q, want := range map[string]int{"draft": 0, "thoughts": 1, "later": 1} {
		if ids, _ := search(t, s, ann.ID, chat.SearchQuery{Words: words(q)}); len(ids) != want {
			t.Errorf("%q finds %v", q, ids)
		}
	}
}

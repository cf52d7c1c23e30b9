package store

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/readonly"
)

// ftsRows counts the messages in the search index itself (the table's
// rows are the messages table's: it is an external-content index).
func ftsRows(t *testing.T, s *Store) int {
	t.Helper()
	got, _ := indexed(t, s)
	docs := map[string]bool{}
	for _, pair := range got {
		docs[strings.SplitN(pair, ":", 2)[0]] = true
	}
	return len(docs)
}

// duplicatePostings counts words the index holds twice for one place in
// a message: a message indexed again.
func duplicatePostings(t *testing.T, s *Store) int {
	t.Helper()
	indexed(t, s) // makes temp.fts_words on the writer's one connection
	var n int
	if err := s.w.QueryRowContext(t.Context(), `SELECT count(*) FROM (SELECT 1 FROM temp.fts_words
		GROUP BY doc, term, col, offset HAVING count(*) > 1)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// New messages are indexed every indexEvery, not in every commit,
// yet a search finds every message committed before it; the index stays
// whole when another process edits a message this one has not indexed
// yet, and after a restart.
func TestTheSearchIndexCatchesUpLaterButSearchesMissNothing(t *testing.T) {
	sqliteOnly(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shared.db")
	clock := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	opt := Options{manualCheckpoints: true, Now: func() time.Time { return clock }}
	s := openAt(t, path, opt)
	ann := mustUser(t, s, "ann")
	room := mustRoom(t, s, ann, "lobby")
	first := mustPost(t, s, room.ID, ann, "first words")
	indexedAfterFirst := ftsRows(t, s)
	mustPost(t, s, room.ID, ann, "second words")
	third := mustPost(t, s, room.ID, ann, "third words")
	if n := ftsRows(t, s); n != indexedAfterFirst {
		t.Fatalf("%d messages indexed, want %d: the commits within %v indexed their messages each", n, indexedAfterFirst, indexEvery)
	}
	if ids, _ := search(t, s, ann.ID, chat.SearchQuery{Words: words("words")}); len(ids) != 3 {
		t.Fatalf("a search found %v, want all 3 messages", ids)
	}

	// Time moves on: the next commit indexes what waits.
	fourth := mustPost(t, s, room.ID, ann, "fourth words")
	clock = clock.Add(indexEvery)
	mustPost(t, s, room.ID, ann, "fifth words")
	if n, want := ftsRows(t, s), 5; n != want {
		t.Fatalf("%d messages indexed after %v, want %d", n, indexEvery, want)
	}

	// Another process (the admin command line, say) edits a message this
	// store has not indexed: its store catches the index up first.
	sixth := mustPost(t, s, room.ID, ann, "sixth words")
	other := openAt(t, path, opt)
	if _, err := other.EditMessage(ctx, room.ID, sixth.ID, ann, "sixth edited"); err != nil {
		t.Fatal(err)
	}
	seventh := mustPost(t, s, room.ID, ann, "seventh words")
	if _, err := s.w.ExecContext(ctx, `INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 0)`); err != nil {
		t.Fatalf("the index is damaged: %v", err)
	}
	if n := duplicatePostings(t, s); n != 0 {
		t.Fatalf("%d words indexed twice", n)
	}
	got, _ := search(t, s, ann.ID, chat.SearchQuery{Words: words("edited")})
	if !slices.Equal(got, []int64{sixth.ID}) {
		t.Fatalf("the other process's edit: found %v", got)
	}

	// A store opened later (a restart) finds the messages still waiting.
	eighth := mustPost(t, s, room.ID, ann, "eighth words")
	s = openAt(t, path, opt)
	got, _ = search(t, s, ann.ID, chat.SearchQuery{Words: words("words")})
	slices.Sort(got)
	if want := []int64{first.ID, first.ID + 1, third.ID, fourth.ID, fourth.ID + 1, seventh.ID, eighth.ID}; !slices.Equal(got, want) {
		t.Fatalf("after a restart the search finds %v, want %v", got, want)
	}
	if got, want := indexed(t, s); !slices.Equal(got, want) {
		t.Fatalf("the index holds %v, the messages say %v", got, want)
	}
	if n := duplicatePostings(t, s); n != 0 {
		t.Fatalf("%d words indexed twice", n)
	}
}

// While the database cannot be written, a search still answers from what
// is indexed (its catch-up fails), rather than failing.
func TestASearchAnswersWhileTheDatabaseIsReadOnly(t *testing.T) {
	sqliteOnly(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "ro.db")
	s, err := Open(ctx, path, Options{manualCheckpoints: true})
	if err != nil {
		t.Fatal(err)
	}
	ann := mustUser(t, s, "ann")
	room := mustRoom(t, s, ann, "lobby")
	posted := mustPost(t, s, room.ID, ann, "still findable")
	if err := s.indexForSearch(ctx); err != nil {
		t.Fatal(err)
	}
	mustPost(t, s, room.ID, ann, "not indexed yet") // the catch-up will have to write
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	readonly.Database(t, path)
	s = openAt(t, path, Options{manualCheckpoints: true})
	if _, err := s.PostMessage(ctx, room.ID, ann, "cannot be stored", ""); err == nil {
		t.Fatal("a post was stored in a read-only database: this test no longer tests a failing writer")
	}
	got, _ := search(t, s, ann.ID, chat.SearchQuery{Words: words("findable")})
	if !slices.Equal(got, []int64{posted.ID}) {
		t.Fatalf("a search while writes fail found %v, want [%d]", got, posted.ID)
	}
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Snippet markers: control characters, which no stored text contains
// (chat.CleanMessage refuses them), so they can only be FTS5's.
const (
	markOpen  = "\x02"
	markClose = "\x03"
)

const (
	// roomTokenLimit is the most rooms named in the MATCH expression
	// itself (see 0012_search.sql). FTS5 steps through an OR of n terms in
	// O(n) per row, so past this many rooms, which then hold a good share
	// of all messages, the SQL membership check filters alone, faster.
	roomTokenLimit = 64
	// searchCandidates is how many of the newest matches are ranked: every
	// page a search may show. Ranking all matches of a word in most
	// messages would cost seconds; "before" reaches further back.
	searchCandidates = chat.MaxSearchPages * chat.SearchPageSize
	// commonDocs: a word in more messages than this is left out of the
	// ranking (it still has to match). bm25 counts every message holding
	// each ranked word, ~60 ns apiece, and such a word weighs next to
	// nothing in it anyway. When no word is rarer, newest comes first.
	commonDocs = 20_000
)

// Search returns a page of the messages user may read that contain every
// word of q, best match first, and whether another page follows. Asking
// for a room user is not in is "no such room".
//
// It runs in three steps, each bounded whatever the words: the newest
// matches in user's rooms (membership checked in SQL), those ranked by
// bm25 over their less common words, and the page's messages with their
// snippets (membership checked again).
func (s *Store) Search(ctx context.Context, user int64, q chat.SearchQuery) ([]chat.SearchHit, bool, error) {
	rooms, err := s.memberRooms(ctx, user)
	if err != nil {
		return nil, false, err
	}
	if q.Room != 0 {
		if !slices.Contains(rooms, q.Room) {
			return nil, false, errNoRoom
		}
		rooms = []int64{q.Room}
	}
	if len(rooms) == 0 || len(q.Words) == 0 {
		return nil, false, nil
	}
	var author int64
	if q.Author != "" {
		err := s.rq.QueryRowContext(ctx, `SELECT id FROM users WHERE username = ?`, q.Author).Scan(&author)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, false, nil // nobody by that name wrote anything
		}
		if err != nil {
			return nil, false, fmt.Errorf("store: search author: %w", err)
		}
	}
	if ts, ok := s.eng.(textSearcher); ok {
		return s.searchOn(ctx, ts, user, q, author)
	}
	if err := s.indexForSearch(ctx); err != nil {
		if !storageFailure(err) {
			return nil, false, err
		}
		// The database cannot take writes (a full disk, say): search what
		// is indexed rather than nothing; the newest messages may be
		// missing from the results.
		s.searchLog.fail(s.now(), "err", err)
	} else {
		s.searchLog.ok(s.now())
	}
	terms := ftsTerms(q.Words)
	ids, err := s.searchCandidates(ctx, user, matchExpr(terms, rooms, author), q.Room, author, q.Before)
	if err != nil {
		return nil, false, err
	}
	if ids, err = s.rank(ctx, terms, ids); err != nil {
		return nil, false, err
	}
	from, to := pageOf(q, len(ids))
	hits, err := s.searchHits(ctx, user, terms, ids[from:to])
	return hits, len(ids) > to, err
}

// pageOf returns where q's page starts and ends among n ranked ids.
func pageOf(q chat.SearchQuery, n int) (from, to int) {
	page := min(max(q.Page, 0), chat.MaxSearchPages-1)
	from = min(n, page*chat.SearchPageSize)
	return from, min(n, from+chat.SearchPageSize)
}

// searchOn searches with an engine's own full-text search, in the same
// steps: ranked candidates, then the page's messages with snippets.
func (s *Store) searchOn(ctx context.Context, ts textSearcher, user int64, q chat.SearchQuery, author int64) ([]chat.SearchHit, bool, error) {
	var before int64
	if !q.Before.IsZero() {
		before = millis(q.Before)
	}
	query, args := ts.SearchCandidates(user, q.Words, q.Room, author, before, searchCandidates)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: search: %w", err)
	}
	ids, err := scanIDs(rows)
	if err != nil {
		return nil, false, err
	}
	from, to := pageOf(q, len(ids))
	if from == to {
		return nil, len(ids) > to, nil
	}
	query, args = ts.SearchHits(s.eng.Rebind(messageColumns), s.eng.Rebind(messageSource), user, ids[from:to])
	if rows, err = s.r.QueryContext(ctx, query, args...); err != nil {
		return nil, false, fmt.Errorf("store: search: %w", err)
	}
	hits, err := scanHits(rows)
	if err != nil {
		return nil, false, fmt.Errorf("store: search: %w", err)
	}
	for i := range hits {
		hits[i].Snippet = snippetOf(hits[i].Message.Body, q.Words)
	}
	sortLike(hits, ids[from:to])
	return hits, len(ids) > to, nil
}

// sortLike puts hits in the order of ids.
func sortLike(hits []chat.SearchHit, ids []int64) {
	order := make(map[int64]int, len(ids))
	for i, id := range ids {
		order[id] = i
	}
	slices.SortFunc(hits, func(a, b chat.SearchHit) int { return order[a.Message.ID] - order[b.Message.ID] })
}

// memberRooms lists the rooms user is in now.
func (s *Store) memberRooms(ctx context.Context, user int64) ([]int64, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT room_id FROM memberships WHERE user_id = ?`, user)
	if err != nil {
		return nil, fmt.Errorf("store: search rooms: %w", err)
	}
	defer rows.Close()
	var rooms []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: search rooms: %w", err)
		}
		rooms = append(rooms, id)
	}
	return rooms, rows.Err()
}

// searchCandidates returns the ids of the newest matches user may read,
// newest first: FTS5 yields them in that order, so it stops early.
func (s *Store) searchCandidates(ctx context.Context, user int64, match string, room, author int64, beforeTime time.Time) ([]int64, error) {
	var before int64
	if !beforeTime.IsZero() {
		before = millis(beforeTime)
	}
	rows, err := s.rq.QueryContext(ctx, `
		SELECT f.rowid
		FROM messages_fts f
		JOIN messages m ON m.id = f.rowid
		WHERE messages_fts MATCH ?1 AND m.kind IN (0, 4) AND m.body <> ''
		  AND m.room_id IN (SELECT room_id FROM memberships WHERE user_id = ?2)
		  AND (?3 = 0 OR m.room_id = ?3)
		  AND (?4 = 0 OR m.author_id = ?4)
		  AND (?5 = 0 OR m.created_at < ?5)
		ORDER BY f.rowid DESC
		LIMIT ?6`, match, user, room, author, before, searchCandidates)
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	return scanIDs(rows)
}

// rank orders ids by bm25 over the words of terms that are not common,
// ties newest first. It leaves ids newest first when every word is common.
func (s *Store) rank(ctx context.Context, terms []string, ids []int64) ([]int64, error) {
	if len(ids) < 2 {
		return ids, nil
	}
	var ranked []string
	for _, t := range terms {
		common, err := s.common(ctx, t)
		if err != nil {
			return nil, err
		}
		if !common {
			ranked = append(ranked, t)
		}
	}
	if len(ranked) == 0 {
		return ids, nil
	}
	// The candidates are a filter here, not a lookup: "+ 0" keeps SQLite
	// from running one FTS5 query per id.
	rows, err := s.rq.QueryContext(ctx, `
		SELECT f.rowid FROM messages_fts f
		WHERE messages_fts MATCH ?1 AND f.rowid + 0 IN (SELECT value FROM json_each(?2))
		ORDER BY f.rank, f.rowid DESC`, "body : ("+strings.Join(ranked, " OR ")+")", jsonIDs(ids))
	if err != nil {
		return nil, fmt.Errorf("store: search rank: %w", err)
	}
	return scanIDs(rows)
}

// common reports whether term is in more than commonDocs messages. It
// counts no further than that: FTS5 keeps no counts, it walks doclists.
func (s *Store) common(ctx context.Context, term string) (bool, error) {
	var docs int64
	err := s.rq.QueryRowContext(ctx, `
		SELECT count(*) FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? LIMIT ?)`,
		"body : "+term, commonDocs+1).Scan(&docs)
	if err != nil {
		return false, fmt.Errorf("store: search term: %w", err)
	}
	return docs > commonDocs, nil
}

// searchHits reads the messages ids names, in that order, with snippets.
func (s *Store) searchHits(ctx context.Context, user int64, terms []string, ids []int64) ([]chat.SearchHit, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.rq.QueryContext(ctx, `
		SELECT `+messageColumns+`, snippet(messages_fts, 0, char(2), char(3), '…', 20)
		FROM messages_fts f, `+messageSource+`
		JOIN memberships ms ON ms.room_id = m.room_id AND ms.user_id = ?2
		WHERE m.id = f.rowid AND messages_fts MATCH ?1 AND f.rowid IN (SELECT value FROM json_each(?3))`,
		"body : ("+strings.Join(terms, " ")+")", user, jsonIDs(ids))
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	hits, err := scanHits(rows)
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	sortLike(hits, ids)
	return hits, nil
}

// ftsTerms quotes each word as an FTS5 string, so nothing in it is
// syntax. Whole words only: a prefix query merges the doclists of every
// word it begins, which for a short common prefix costs seconds.
func ftsTerms(words []string) []string {
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
	}
	return terms
}

// matchExpr is the FTS5 query for every term in one of rooms (named only
// up to roomTokenLimit: see there), by author if not 0.
func matchExpr(terms []string, rooms []int64, author int64) string {
	expr := "body : (" + strings.Join(terms, " ") + ")"
	if author != 0 {
		expr += ` AND author_id : "` + strconv.FormatInt(author, 10) + `"`
	}
	if len(rooms) > roomTokenLimit {
		return expr
	}
	named := make([]string, len(rooms))
	for i, r := range rooms {
		named[i] = `"` + strconv.FormatInt(r, 10) + `"`
	}
	return expr + " AND room_id : (" + strings.Join(named, " OR ") + ")"
}

func jsonIDs(ids []int64) string {
	b, _ := json.Marshal(ids) // []int64 always marshals
	return string(b)
}

func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: search: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func scanHits(rows *sql.Rows) ([]chat.SearchHit, error) {
	defer rows.Close()
	var hits []chat.SearchHit
	for rows.Next() {
		var snippet string
		m, err := scanMessage(rows, &snippet)
		if err != nil {
			return nil, err
		}
		hits = append(hits, chat.SearchHit{Message: m, Snippet: spans(snippet)})
	}
	return hits, rows.Err()
}

// spans cuts a snippet at FTS5's markers into plain and matched text.
func spans(snippet string) []chat.Span {
	var out []chat.Span
	match := false
	for snippet != "" {
		i := strings.IndexAny(snippet, markOpen+markClose)
		if i < 0 {
			i = len(snippet)
		}
		if i > 0 {
			out = append(out, chat.Span{Text: snippet[:i], Match: match})
		}
		if i == len(snippet) {
			break
		}
		match = snippet[i] == markOpen[0]
		snippet = snippet[i+1:]
	}
	return out
}

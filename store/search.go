package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Snippet markers: control characters, which no stored text contains
// (chat.CleanMessage refuses them), so they can only be FTS5's.
const (
	markOpen  = "\x02"
	markClose = "\x03"
)

// roomTokenLimit is the most rooms named in the MATCH expression itself.
// Beyond it the expression would cost more than it saves; the SQL
// membership check, which every search has, then filters alone.
const roomTokenLimit = 500

// searchSQL finds messages by words, best first (bm25 over the body; see
// 0012_search.sql), in rooms user (?2) belongs to now. The membership join
// is what keeps other rooms out; the room tokens in the MATCH (?1) only
// make it fast.
const searchSQL = `
	SELECT ` + messageColumns + `, snippet(messages_fts, 0, char(2), char(3), '…', 20)
	FROM messages_fts f
	JOIN messages m ON m.id = f.rowid
	JOIN memberships ms ON ms.room_id = m.room_id AND ms.user_id = ?2
	JOIN users u ON u.id = m.author_id
	LEFT JOIN embed_sites es ON es.id = u.site_id
	WHERE messages_fts MATCH ?1 AND m.kind IN (0, 4) AND m.body <> ''
	  AND (?3 = 0 OR m.room_id = ?3)
	  AND (?4 = '' OR m.author_id = (SELECT id FROM users WHERE username = ?4))
	  AND (?5 = 0 OR m.created_at < ?5)
	ORDER BY f.rank, m.id DESC
	LIMIT ?6 OFFSET ?7`

// Search returns a page of the messages user may read that contain every
// word of q, best match first, and whether another page follows. Asking
// for a room user is not in is "no such room".
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
	var before int64
	if !q.Before.IsZero() {
		before = millis(q.Before)
	}
	page := min(max(q.Page, 0), chat.MaxSearchPages-1)
	rows, err := s.rq.QueryContext(ctx, searchSQL, matchExpr(q.Words, rooms), user, q.Room, q.Author, before,
		chat.SearchPageSize+1, page*chat.SearchPageSize)
	if err != nil {
		return nil, false, fmt.Errorf("store: search: %w", err)
	}
	hits, err := scanHits(rows)
	if err != nil {
		return nil, false, fmt.Errorf("store: search: %w", err)
	}
	more := len(hits) > chat.SearchPageSize && page < chat.MaxSearchPages-1
	return hits[:min(len(hits), chat.SearchPageSize)], more, nil
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

// matchExpr is the FTS5 query for words in one of rooms. Each word is a
// quoted string, so nothing in it is syntax; the last may also begin a
// longer word (prefix search) once it is long enough to be selective.
func matchExpr(words []string, rooms []int64) string {
	var b strings.Builder
	b.WriteString("body : (")
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(`"` + strings.ReplaceAll(w, `"`, `""`) + `"`)
		if i == len(words)-1 && len([]rune(w)) >= 3 {
			b.WriteByte('*')
		}
	}
	b.WriteByte(')')
	if len(rooms) <= roomTokenLimit {
		b.WriteString(" AND room_id : (")
		for i, r := range rooms {
			if i > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString(`"` + strconv.FormatInt(r, 10) + `"`)
		}
		b.WriteByte(')')
	}
	return b.String()
}

func scanHits(rows *sql.Rows) ([]chat.SearchHit, error) {
	defer rows.Close()
	var hits []chat.SearchHit
	for rows.Next() {
		var m chat.Message
		var sent int64
		var origin, mentions, snippet string
		if err := rows.Scan(&m.ID, &m.RoomID, &m.AuthorID, &m.Author, &origin, &m.Kind, &m.Body, &sent, &mentions, &snippet); err != nil {
			return nil, err
		}
		m.Sent = fromMillis(sent)
		m.Mentions, m.MentionsRoom = decodeMentions(mentions)
		m.AuthorSite = chat.SiteLabel(origin)
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

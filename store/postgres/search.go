package postgres

import "strings"

// Full-text search on PostgreSQL: messages.search, a tsvector the
// database keeps with the text (see the schema), under a GIN index. The
// words go in as one plainto_tsquery argument, so nothing in them is
// query syntax, and every word must match.

// SearchCandidates selects the newest limit matches in user's rooms (or
// room, by author, before: 0 for any), then orders them by ts_rank, ties
// newest first. Ranking only the newest keeps a common word's cost
// bounded, as the SQLite engine does.
func (e *Engine) SearchCandidates(user int64, words []string, room, author, before int64, limit int) (string, []any) {
	return `
		SELECT c.id FROM (
			SELECT m.id, m.search FROM messages m
			WHERE m.search @@ plainto_tsquery('simple', $1) AND m.body <> ''
			  AND m.room_id IN (SELECT room_id FROM memberships WHERE user_id = $2)
			  AND ($3::bigint = 0 OR m.room_id = $3)
			  AND ($4::bigint = 0 OR m.author_id = $4)
			  AND ($5::bigint = 0 OR m.created_at < $5)
			ORDER BY m.id DESC
			LIMIT $6) c
		ORDER BY ts_rank(c.search, plainto_tsquery('simple', $1)) DESC, c.id DESC`,
		[]any{strings.Join(words, " "), user, room, author, before, limit}
}

// SearchHits selects columns for the messages ids that user may still
// read (membership checked again: they may have left). The store makes
// the snippets: ts_headline drops whatever looks like markup.
func (e *Engine) SearchHits(columns, source string, user int64, ids []int64) (string, []any) {
	return `
		SELECT ` + columns + `, ''
		FROM ` + source + `
		JOIN memberships ms ON ms.room_id = m.room_id AND ms.user_id = $1
		WHERE m.id = ANY($2)`,
		[]any{user, ids}
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/rtmessenger/rtmessenger/chat"
)

// resolveMentions turns the names a post mentions into the room's members
// they name (case-insensitively; never the author), and @room into room
// when author may use it (chat.CanMentionRoom). Other names stay text.
func resolveMentions(ctx context.Context, q querier, room int64, author chat.User, names []string) ([]chat.Mention, bool, error) {
	var out []chat.Mention
	everyone := false
	for _, name := range names {
		if name == chat.MentionRoom {
			ok, err := mayMentionRoom(ctx, q, room, author)
			if err != nil {
				return nil, false, err
			}
			everyone = ok
			continue
		}
		var m chat.Mention
		err := q.QueryRowContext(ctx, `
			SELECT u.id, u.username FROM users u JOIN memberships ms ON ms.user_id = u.id AND ms.room_id = ?
			WHERE u.username = ?`, room, name).Scan(&m.UserID, &m.Name)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && m.UserID == author.ID) {
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("store: resolve mention: %w", err)
		}
		out = append(out, m)
	}
	return out, everyone, nil
}

func mayMentionRoom(ctx context.Context, q querier, room int64, author chat.User) (bool, error) {
	var r chat.Room
	var roomAdmin bool
	err := q.QueryRowContext(ctx, `
		SELECT r.created_by, COALESCE(ms.room_admin, FALSE)
		FROM rooms r LEFT JOIN memberships ms ON ms.room_id = r.id AND ms.user_id = ?
		WHERE r.id = ?`, author.ID, room).Scan(&r.CreatedBy, &roomAdmin)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // the insert then says the room is gone
	}
	if err != nil {
		return false, fmt.Errorf("store: mention room: %w", err)
	}
	return chat.CanMentionRoom(author, r, roomAdmin), nil
}

// storeMentions records whom m mentions: @room as every member but the
// author, in one statement.
func storeMentions(ctx context.Context, q querier, m chat.Message) error {
	if m.MentionsRoom {
		if _, err := q.ExecContext(ctx, `
			INSERT INTO mentions (user_id, room_id, message_id)
			SELECT user_id, ?1, ?2 FROM memberships WHERE room_id = ?1 AND user_id != ?3
			ON CONFLICT DO NOTHING`, m.RoomID, m.ID, m.AuthorID); err != nil {
			return fmt.Errorf("store: store mentions: %w", err)
		}
	}
	for _, x := range m.Mentions {
		if _, err := q.ExecContext(ctx, `
			INSERT INTO mentions (user_id, room_id, message_id) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, x.UserID, m.RoomID, m.ID); err != nil {
			return fmt.Errorf("store: store mentions: %w", err)
		}
	}
	return nil
}

// encodeMentions is the messages.mentions column: "room" for @room, then
// "id:username" per person, space-separated ("" for none).
func encodeMentions(m chat.Message) string {
	var b strings.Builder
	if m.MentionsRoom {
		b.WriteString(chat.MentionRoom)
	}
	for _, x := range m.Mentions {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatInt(x.UserID, 10))
		b.WriteByte(':')
		b.WriteString(x.Name)
	}
	return b.String()
}

func decodeMentions(s string) (out []chat.Mention, everyone bool) {
	for _, f := range strings.Fields(s) {
		if f == chat.MentionRoom {
			everyone = true
			continue
		}
		id, name, ok := strings.Cut(f, ":")
		n, err := strconv.ParseInt(id, 10, 64)
		if ok && err == nil {
			out = append(out, chat.Mention{UserID: n, Name: name})
		}
	}
	return out, everyone
}

// MentionsOf returns up to limit messages that mention user, newest first,
// older than before (the newest when before is 0), and whether older ones
// exist. Only rooms user belongs to now count: a room left, or one they
// were removed from, shows nothing here.
func (s *Store) MentionsOf(ctx context.Context, user, before int64, limit int) ([]chat.Message, bool, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.rq.QueryContext(ctx, `
		SELECT `+messageColumns+`
		FROM `+messageSource+` JOIN mentions mn ON mn.message_id = m.id
		WHERE mn.user_id = ?1 AND mn.message_id < ?2
		  AND EXISTS (SELECT 1 FROM memberships ms WHERE ms.user_id = ?1 AND ms.room_id = mn.room_id)
		ORDER BY mn.message_id DESC LIMIT ?3`, user, before, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("store: mentions: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, false, fmt.Errorf("store: mentions: %w", err)
	}
	more := len(msgs) > limit
	if more {
		msgs = msgs[:limit]
	}
	return msgs, more, nil
}

// MentionCandidates lists up to limit members of room other than viewer
// whose username starts with prefix (case-insensitively), by username:
// whom the composer suggests after "@".
func (s *Store) MentionCandidates(ctx context.Context, room, viewer int64, prefix string, limit int) ([]chat.Person, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT u.username, u.display_name
		FROM memberships ms JOIN users u ON u.id = ms.user_id
		WHERE ms.room_id = ? AND ms.user_id != ? AND u.deactivated_at IS NULL AND u.site_id IS NULL
		  AND u.username LIKE ? ESCAPE '\'
		ORDER BY u.username COLLATE NOCASE LIMIT ?`, room, viewer, escapeLike(prefix)+"%", limit)
	if err != nil {
		return nil, fmt.Errorf("store: mention candidates: %w", err)
	}
	defer rows.Close()
	var out []chat.Person
	for rows.Next() {
		var p chat.Person
		if err := rows.Scan(&p.Name, &p.DisplayName); err != nil {
			return nil, fmt.Errorf("store: mention candidates: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

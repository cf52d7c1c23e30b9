package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Announce sends body from sender to everyone targets resolves to, in one
// transaction however many they are: each recipient gets a copy in their
// direct conversation with sender (started silently if new). Recipients are
// resolved here, from the database: people by username (active ones only),
// every member of the rooms sender belongs to (or, for admins, any public
// room), and everyone for admins. The sender is never a recipient.
func (s *Store) Announce(ctx context.Context, sender chat.User, targets chat.AnnouncementTargets, body string) (chat.Announcement, error) {
	a := chat.Announcement{Sender: sender, Body: body}
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		a.Sent = fromMillis(millis(now))
		n, err := resolveRecipients(ctx, q, sender, targets)
		if err != nil {
			return nil, err
		}
		if err := q.QueryRowContext(ctx, `
			INSERT INTO announcements (sender_id, body, created_at) VALUES (?, ?, ?) RETURNING id`,
			sender.ID, body, millis(now)).Scan(&a.ID); err != nil {
			return nil, fmt.Errorf("store: announce: %w", err)
		}
		a.Receipt = chat.Receipt{AnnouncementID: a.ID, SenderID: sender.ID, Recipients: n}
		joins, err := openDirectRooms(ctx, q, sender, now)
		if err != nil {
			return nil, err
		}
		msgs, err := insertAnnouncementCopies(ctx, q, a, now)
		if err != nil {
			return nil, err
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM announce_to`); err != nil {
			return nil, fmt.Errorf("store: announce: %w", err)
		}
		return append(joins, msgs...), nil
	})
	return a, err
}

// resolveRecipients fills the temporary table announce_to with the people
// targets name, minus sender, and counts them.
func resolveRecipients(ctx context.Context, q querier, sender chat.User, t chat.AnnouncementTargets) (int, error) {
	if len(t.Usernames)+len(t.Rooms) > chat.MaxAnnouncementTargets {
		return 0, chat.FieldErrorf("to", chat.Invalid, "An announcement can name at most %d people and rooms; choose a room or everyone instead.", chat.MaxAnnouncementTargets)
	}
	if t.Everyone && !sender.Admin {
		return 0, chat.FieldErrorf("everyone", chat.Forbidden, "Only admins can send an announcement to everyone.")
	}
	for _, stmt := range []string{
		`CREATE TEMP TABLE IF NOT EXISTS announce_to (user_id INTEGER PRIMARY KEY, username TEXT NOT NULL, room_id INTEGER)`,
		`DELETE FROM announce_to`,
	} {
		if _, err := q.ExecContext(ctx, stmt); err != nil {
			return 0, fmt.Errorf("store: resolve recipients: %w", err)
		}
	}
	people, err := activeUsers(ctx, q, t.Usernames)
	if err != nil {
		var ce *chat.Error
		if errors.As(err, &ce) {
			ce.Field = "to"
		}
		return 0, err
	}
	for _, u := range people {
		if _, err := q.ExecContext(ctx, `INSERT INTO announce_to (user_id, username) VALUES (?, ?) ON CONFLICT DO NOTHING`, u.ID, u.Name); err != nil {
			return 0, fmt.Errorf("store: resolve recipients: %w", err)
		}
	}
	for _, room := range t.Rooms {
		if err := checkAnnounceRoom(ctx, q, sender, room); err != nil {
			return 0, err
		}
		if _, err := q.ExecContext(ctx, `
			INSERT INTO announce_to (user_id, username)
			SELECT u.id, u.username FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.room_id = ? AND u.deactivated_at IS NULL AND u.site_id IS NULL
			ON CONFLICT DO NOTHING`, room); err != nil {
			return 0, fmt.Errorf("store: resolve recipients: %w", err)
		}
	}
	if t.Everyone {
		if _, err := q.ExecContext(ctx, `
			INSERT INTO announce_to (user_id, username)
			SELECT id, username FROM users WHERE deactivated_at IS NULL AND site_id IS NULL
			ON CONFLICT DO NOTHING`); err != nil {
			return 0, fmt.Errorf("store: resolve recipients: %w", err)
		}
	}
	var n int
	if _, err := q.ExecContext(ctx, `DELETE FROM announce_to WHERE user_id = ?`, sender.ID); err != nil {
		return 0, fmt.Errorf("store: resolve recipients: %w", err)
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM announce_to`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: resolve recipients: %w", err)
	}
	if n == 0 {
		return 0, chat.FieldErrorf("to", chat.Invalid, "Nobody to send to: pick people or rooms with someone besides you in them.")
	}
	return n, nil
}

// checkAnnounceRoom lets a sender reach a room's members only if they can
// see them: as a member, or as an admin for a public room. Outsiders of a
// conversation do not learn it exists.
func checkAnnounceRoom(ctx context.Context, q querier, sender chat.User, room int64) error {
	var kind chat.RoomKind
	var member bool
	err := q.QueryRowContext(ctx, `
		SELECT kind, EXISTS (SELECT 1 FROM memberships WHERE room_id = rooms.id AND user_id = ?)
		FROM rooms WHERE id = ?`, sender.ID, room).Scan(&kind, &member)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && !member && kind != chat.KindRoom):
		return chat.FieldErrorf("room", chat.NotFound, "No such room (%d).", room)
	case err != nil:
		return fmt.Errorf("store: check room: %w", err)
	case !member && !sender.Admin:
		return chat.FieldErrorf("room", chat.Forbidden, "You can announce only to rooms you are in.")
	}
	return nil
}

// directKey and directName compute, in SQL for every row of announce_to at
// once, what chat.ConversationKey and chat.ConversationName give for the
// recipient and the sender (?1 = sender id, ?2 = sender username).
const (
	directKey  = `CASE WHEN t.user_id < ?1 THEN t.user_id || ':' || ?1 ELSE ?1 || ':' || t.user_id END`
	directName = `CASE WHEN lower(t.username) < lower(?2) THEN t.username || ', ' || ?2 ELSE ?2 || ', ' || t.username END`
)

// openDirectRooms finds or starts the direct conversation of sender with
// each recipient, records it in announce_to, and returns the silent joins
// of memberships it had to create.
func openDirectRooms(ctx context.Context, q querier, sender chat.User, now time.Time) ([]chat.Message, error) {
	if _, err := q.ExecContext(ctx, `
		INSERT INTO rooms (kind, name, created_by, created_at, member_key)
		SELECT ?3, `+directName+`, ?1, ?4, `+directKey+` FROM announce_to t WHERE true
		ON CONFLICT (member_key) WHERE member_key IS NOT NULL DO NOTHING`,
		sender.ID, sender.Name, chat.KindDirect, millis(now)); err != nil {
		return nil, fmt.Errorf("store: open conversations: %w", err)
	}
	if _, err := q.ExecContext(ctx, `
		UPDATE announce_to AS t SET room_id = (SELECT id FROM rooms WHERE member_key = `+directKey+`)`,
		sender.ID); err != nil {
		return nil, fmt.Errorf("store: open conversations: %w", err)
	}
	var joins []chat.Message
	for _, who := range []string{"t.user_id", "CAST(?1 AS BIGINT)"} {
		// ?1 is used in both statements: a server engine must infer the
		// type of every parameter it is given.
		rows, err := q.QueryContext(ctx, `
			INSERT INTO memberships (user_id, room_id, joined_at)
			SELECT `+who+`, t.room_id, ?2 FROM announce_to t WHERE t.user_id <> ?1
			ON CONFLICT DO NOTHING RETURNING user_id, room_id`, sender.ID, millis(now))
		if err != nil {
			return nil, fmt.Errorf("store: open conversations: %w", err)
		}
		for rows.Next() {
			var user, room int64
			if err := rows.Scan(&user, &room); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: open conversations: %w", err)
			}
			joins = append(joins, silentJoin(room, user))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: open conversations: %w", err)
		}
	}
	return joins, nil
}

// insertAnnouncementCopies stores one message per recipient, in recipient
// order, and links each to its recipient row.
func insertAnnouncementCopies(ctx context.Context, q querier, a chat.Announcement, now time.Time) ([]chat.Message, error) {
	var before int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM messages`).Scan(&before); err != nil {
		return nil, fmt.Errorf("store: announce: %w", err)
	}
	rows, err := q.QueryContext(ctx, `
		INSERT INTO messages (room_id, author_id, kind, body, created_at)
		SELECT room_id, ?, ?, ?, ? FROM announce_to ORDER BY user_id
		RETURNING id, room_id`, a.Sender.ID, chat.KindAnnouncement, a.Body, millis(now))
	if err != nil {
		return nil, fmt.Errorf("store: announce: %w", err)
	}
	msgs := make([]chat.Message, 0, a.Recipients)
	for rows.Next() {
		m := chat.Message{AuthorID: a.Sender.ID, Author: a.Sender.Name, AuthorDisplay: a.Sender.Display, Kind: chat.KindAnnouncement, Body: a.Body, Sent: a.Sent}
		if err := rows.Scan(&m.ID, &m.RoomID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: announce: %w", err)
		}
		msgs = append(msgs, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: announce: %w", err)
	}
	sortByID(msgs)
	// Within this transaction only this insert wrote sender's announcement
	// messages above before: the join finds exactly this announcement's copies.
	if _, err := q.ExecContext(ctx, `
		INSERT INTO announcement_recipients (announcement_id, user_id, room_id, message_id)
		SELECT ?, t.user_id, t.room_id, m.id FROM announce_to t
		JOIN messages m ON m.room_id = t.room_id AND m.id > ? AND m.author_id = ? AND m.kind = ?`,
		a.ID, before, a.Sender.ID, chat.KindAnnouncement); err != nil {
		return nil, fmt.Errorf("store: announce: %w", err)
	}
	return msgs, nil
}

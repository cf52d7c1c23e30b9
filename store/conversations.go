package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// StartConversation finds or starts the conversation between starter and
// the people named: direct with one other person, a group with more. Its
// members are exactly those people, chosen now; they join silently (no
// join lines), and their streams carry it from this commit on.
func (s *Store) StartConversation(ctx context.Context, starter chat.User, usernames []string) (chat.Room, error) {
	var room chat.Room
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		people, err := activeUsers(ctx, q, usernames)
		if err != nil {
			return nil, err
		}
		people = withoutUser(people, starter.ID)
		if len(people) == 0 {
			return nil, chat.FieldErrorf("with", chat.Invalid, "Choose at least one other person.")
		}
		if len(people) > chat.MaxConversationPeople {
			return nil, chat.FieldErrorf("with", chat.Invalid, "A conversation can include at most %d other people; you chose %d.", chat.MaxConversationPeople, len(people))
		}
		members := append([]chat.User{starter}, people...)
		key := chat.ConversationKey(userIDs(members))
		found, err := roomByMemberKey(ctx, q, key)
		if err == nil {
			room = found
			return nil, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		kind := chat.KindGroup
		if len(members) == 2 {
			kind = chat.KindDirect
		}
		room = chat.Room{Kind: kind, Name: chat.ConversationName(userNames(members)), CreatedBy: starter.ID,
			Created: fromMillis(millis(now)), Members: len(members)}
		if err := q.QueryRowContext(ctx, `
			INSERT INTO rooms (kind, name, created_by, created_at, member_key) VALUES (?, ?, ?, ?, ?)
			RETURNING id`, kind, room.Name, starter.ID, millis(now), key).Scan(&room.ID); err != nil {
			return nil, fmt.Errorf("store: start conversation: %w", err)
		}
		joins := make([]chat.Message, 0, len(members))
		for _, u := range members {
			if _, err := q.ExecContext(ctx, `
				INSERT INTO memberships (user_id, room_id, joined_at) VALUES (?, ?, ?)`, u.ID, room.ID, millis(now)); err != nil {
				return nil, fmt.Errorf("store: start conversation: %w", err)
			}
			joins = append(joins, silentJoin(room.ID, u.ID))
		}
		return joins, nil
	})
	return room, err
}

// silentJoin tells OnCommit that user joined room without a line to show.
func silentJoin(room, user int64) chat.Message {
	return chat.Message{RoomID: room, AuthorID: user, Kind: chat.KindJoin}
}

func roomByMemberKey(ctx context.Context, q querier, key string) (chat.Room, error) {
	var r chat.Room
	var created int64
	err := q.QueryRowContext(ctx, `
		SELECT id, kind, name, topic, created_by, created_at,
		       (SELECT COUNT(*) FROM memberships WHERE room_id = rooms.id)
		FROM rooms WHERE member_key = ?`, key).Scan(&r.ID, &r.Kind, &r.Name, &r.Topic, &r.CreatedBy, &created, &r.Members)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return r, err
		}
		return r, fmt.Errorf("store: find conversation: %w", err)
	}
	r.Created = fromMillis(created)
	return r, nil
}

// renameConversation brings a group conversation's name and member key in
// line with its members after someone left or was added. If another
// conversation has exactly these people, this one keeps no key: starting a
// conversation with them finds the other.
func (s *Store) renameConversation(ctx context.Context, q querier, room int64) error {
	rows, err := q.QueryContext(ctx, `
		SELECT u.id, u.username FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.room_id = ?`, room)
	if err != nil {
		return fmt.Errorf("store: rename conversation: %w", err)
	}
	var ids []int64
	var names []string
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return fmt.Errorf("store: rename conversation: %w", err)
		}
		ids, names = append(ids, id), append(names, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: rename conversation: %w", err)
	}
	key := chat.ConversationKey(ids)
	if _, err := q.ExecContext(ctx, `
		UPDATE rooms SET name = ?1,
		       member_key = CASE WHEN EXISTS (SELECT 1 FROM rooms o WHERE o.member_key = ?2 AND o.id != ?3) THEN NULL ELSE ?2 END
		WHERE id = ?3`, chat.ConversationName(names), key, room); err != nil {
		return fmt.Errorf("store: rename conversation: %w", err)
	}
	s.cache.dropRoomName(room)
	return nil
}

// activeUsers resolves usernames (ignoring repeats and blanks) to active
// accounts; unknown or deactivated names are an error naming them all.
func activeUsers(ctx context.Context, q querier, usernames []string) ([]chat.User, error) {
	seen := map[string]bool{}
	var users []chat.User
	var unknown []string
	for _, name := range usernames {
		name = strings.TrimSpace(name)
		if name == "" || seen[strings.ToLower(name)] {
			continue
		}
		seen[strings.ToLower(name)] = true
		var u chat.User
		var created int64
		err := q.QueryRowContext(ctx, `
			SELECT id, username, is_admin, created_at FROM users WHERE username = ? AND deactivated_at IS NULL AND site_id IS NULL`, name).
			Scan(&u.ID, &u.Name, &u.Admin, &created)
		if errors.Is(err, sql.ErrNoRows) {
			unknown = append(unknown, name)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: find user: %w", err)
		}
		u.Created = fromMillis(created)
		users = append(users, u)
	}
	if len(unknown) > 0 {
		return nil, chat.FieldErrorf("with", chat.NotFound, "Nobody active has the username %s.", quoteList(unknown))
	}
	return users, nil
}

func quoteList(names []string) string {
	var quoted []string
	for i, n := range names {
		if i == 10 {
			quoted = append(quoted, fmt.Sprintf("and %d more", len(names)-10))
			break
		}
		quoted = append(quoted, fmt.Sprintf("%q", n))
	}
	return strings.Join(quoted, ", ")
}

func withoutUser(users []chat.User, id int64) []chat.User {
	out := users[:0]
	for _, u := range users {
		if u.ID != id {
			out = append(out, u)
		}
	}
	return out
}

func userIDs(users []chat.User) []int64 {
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	return ids
}

func userNames(users []chat.User) []string {
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Name
	}
	return names
}

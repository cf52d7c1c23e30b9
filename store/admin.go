package store

import (
	"context"
	"fmt"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// CommandLine is who acts in changes made with `rtmessenger admin`: an
// operator with the server's files, no account of the app. Audit rows and
// sign-in links record it as no one (a NULL actor).
var CommandLine = chat.User{Name: "command line", Admin: true}

// actor is the value stored for who did something: NULL for CommandLine.
func actor(by chat.User) any {
	if by.ID == 0 {
		return nil
	}
	return by.ID
}

// CreateAdmin adds an account that is an admin from the start (whatever
// accounts exist), for an operator setting up or recovering a site.
func (s *Store) CreateAdmin(ctx context.Context, name, passwordHash string, by chat.User) (chat.User, error) {
	var u chat.User
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		if !by.Admin {
			return nil, chat.Errorf(chat.Forbidden, "Only admins can create admins.")
		}
		var created int64
		err := q.QueryRowContext(ctx, `
			INSERT INTO users (username, password_hash, is_admin, created_at) VALUES (?, ?, TRUE, ?)
			RETURNING id, username, is_admin, created_at`, name, passwordHash, millis(now)).Scan(&u.ID, &u.Name, &u.Admin, &created)
		if isUnique(err) {
			return nil, chat.FieldErrorf("username", chat.Conflict, "The username %q is taken.", name)
		}
		if err != nil {
			return nil, fmt.Errorf("store: create admin: %w", err)
		}
		u.Created = fromMillis(created)
		return nil, audit(ctx, q, u.ID, by, "admin", "no", "yes", now)
	})
	return u, err
}

// SetAdmin makes a person an admin of the site, or no longer one, and
// records it in their audit trail.
func (s *Store) SetAdmin(ctx context.Context, username string, admin bool, by chat.User) (chat.User, error) {
	var out chat.User
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		if !by.Admin {
			return nil, chat.Errorf(chat.Forbidden, "Only admins can change who is an admin.")
		}
		p, err := personByName(ctx, q, username)
		if err != nil {
			return nil, err
		}
		out = p.User
		if p.Admin == admin {
			return nil, nil
		}
		if _, err := q.ExecContext(ctx, `UPDATE users SET is_admin = ? WHERE id = ?`, admin, p.ID); err != nil {
			return nil, fmt.Errorf("store: set admin: %w", err)
		}
		out.Admin = admin
		return nil, audit(ctx, q, p.ID, by, "admin", yesNo(p.Admin), yesNo(admin), now)
	})
	if err == nil {
		s.cache.userChanged(out)
	}
	return out, err
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// AllRooms lists every public and private room with its member count, by
// name; conversations (people's own) are left out.
func (s *Store) AllRooms(ctx context.Context) ([]chat.Room, error) {
	return s.adminRooms(ctx, `WHERE r.kind IN (?, ?) ORDER BY r.name COLLATE NOCASE, r.id`, chat.KindRoom, chat.KindPrivate)
}

// RoomsNamed lists the public and private rooms named name (ignoring
// case): private rooms may share a name.
func (s *Store) RoomsNamed(ctx context.Context, name string) ([]chat.Room, error) {
	return s.adminRooms(ctx, `WHERE r.kind IN (?, ?) AND r.name = ? ORDER BY r.id`, chat.KindRoom, chat.KindPrivate, name)
}

func (s *Store) adminRooms(ctx context.Context, where string, args ...any) ([]chat.Room, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT r.id, r.kind, r.name, r.topic, r.created_by, r.created_at,
		       (SELECT COUNT(*) FROM memberships m WHERE m.room_id = r.id)
		FROM rooms r `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: rooms: %w", err)
	}
	defer rows.Close()
	var out []chat.Room
	for rows.Next() {
		var r chat.Room
		var created int64
		if err := rows.Scan(&r.ID, &r.Kind, &r.Name, &r.Topic, &r.CreatedBy, &created, &r.Members); err != nil {
			return nil, fmt.Errorf("store: rooms: %w", err)
		}
		r.Created = fromMillis(created)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: rooms: %w", err)
	}
	return out, nil
}

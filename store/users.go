package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// CreateUser adds an account. The first account ever created is the admin;
// deciding that inside the writer's transaction makes the race impossible.
func (s *Store) CreateUser(ctx context.Context, name, passwordHash string) (chat.User, error) {
	var u chat.User
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		row := q.QueryRowContext(ctx, `
			INSERT INTO users (username, password_hash, is_admin, created_at)
			VALUES (?, ?, NOT EXISTS (SELECT 1 FROM users), ?)
			RETURNING id, username, is_admin, created_at`,
			name, passwordHash, millis(now))
		var created int64
		if err := row.Scan(&u.ID, &u.Name, &u.Admin, &created); err != nil {
			if isUnique(err) {
				return nil, chat.FieldErrorf("username", chat.Conflict, "The username %q is taken.", name)
			}
			return nil, fmt.Errorf("store: create user: %w", err)
		}
		u.Created = fromMillis(created)
		return nil, nil
	})
	return u, err
}

// HasUsers reports whether any account exists: until one does, the next
// to be created becomes the admin (CreateUser).
func (s *Store) HasUsers(ctx context.Context) (bool, error) {
	var found bool
	if err := s.rq.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&found); err != nil {
		return false, fmt.Errorf("store: any users: %w", err)
	}
	return found, nil
}

// UserByName finds an account by username (case-insensitively) and returns
// it with its password hash.
func (s *Store) UserByName(ctx context.Context, name string) (chat.User, string, error) {
	var u chat.User
	var hash string
	var created int64
	err := s.rq.QueryRowContext(ctx, `
		SELECT id, username, is_admin, created_at, deactivated_at IS NOT NULL, light, display_name, timezone, password_hash
		FROM users WHERE username = ?`, name).
		Scan(&u.ID, &u.Name, &u.Admin, &created, &u.Deactivated, &u.Light, &u.Display, &u.Zone, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return u, "", chat.Errorf(chat.NotFound, "No such user.")
	}
	if err != nil {
		return u, "", fmt.Errorf("store: user by name: %w", err)
	}
	u.Created = fromMillis(created)
	return u, hash, nil
}

// UserByID finds an account by id.
func (s *Store) UserByID(ctx context.Context, id int64) (chat.User, error) {
	if u, ok := s.cache.user(id); ok {
		return u, nil
	}
	gen := s.cache.generation()
	var u chat.User
	var created int64
	var origin string
	err := s.rq.QueryRowContext(ctx, `
		SELECT u.id, CASE WHEN u.site_id IS NULL THEN u.username ELSE u.display_name END, u.is_admin, u.created_at,
			u.deactivated_at IS NOT NULL, u.light, COALESCE(es.origin, ''),
			CASE WHEN u.site_id IS NULL THEN u.display_name ELSE '' END, u.timezone
		FROM users u LEFT JOIN embed_sites es ON es.id = u.site_id WHERE u.id = ?`, id).
		Scan(&u.ID, &u.Name, &u.Admin, &created, &u.Deactivated, &u.Light, &origin, &u.Display, &u.Zone)
	u.Site = chat.SiteLabel(origin)
	if errors.Is(err, sql.ErrNoRows) {
		return u, chat.Errorf(chat.NotFound, "No such user.")
	}
	if err != nil {
		return u, fmt.Errorf("store: user by id: %w", err)
	}
	u.Created = fromMillis(created)
	s.cache.putUser(u, gen)
	return u, nil
}

// isUnique reports whether err is a unique constraint's refusal.
func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return errorState(err) == "23505" // unique_violation
}

// SetLight records whether user chose light mode, and returns them as
// they are now.
func (s *Store) SetLight(ctx context.Context, user int64, on bool) (chat.User, error) {
	_, err := s.write(ctx, func(ctx context.Context, q querier, _ time.Time) ([]chat.Message, error) {
		res, err := q.ExecContext(ctx, `UPDATE users SET light = ? WHERE id = ?`, on, user)
		if err != nil {
			return nil, fmt.Errorf("store: light mode: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, chat.Errorf(chat.NotFound, "No such user.")
		}
		return nil, nil
	})
	if err != nil {
		return chat.User{}, err
	}
	u, err := s.UserByID(ctx, user)
	if err != nil {
		return u, err
	}
	u.Light = on
	s.cache.userChanged(u)
	return u, nil
}

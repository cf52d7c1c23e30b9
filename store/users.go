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
	_, err := s.write(ctx, func(ctx context.Context, tx *sql.Tx, now time.Time) ([]chat.Message, error) {
		row := tx.QueryRowContext(ctx, `
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

// UserByName finds an account by username (case-insensitively) and returns
// it with its password hash.
func (s *Store) UserByName(ctx context.Context, name string) (chat.User, string, error) {
	var u chat.User
	var hash string
	var created int64
	err := s.r.QueryRowContext(ctx, `
		SELECT id, username, is_admin, created_at, password_hash FROM users WHERE username = ?`, name).
		Scan(&u.ID, &u.Name, &u.Admin, &created, &hash)
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
	var u chat.User
	var created int64
	err := s.r.QueryRowContext(ctx, `
		SELECT id, username, is_admin, created_at FROM users WHERE id = ?`, id).
		Scan(&u.ID, &u.Name, &u.Admin, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return u, chat.Errorf(chat.NotFound, "No such user.")
	}
	if err != nil {
		return u, fmt.Errorf("store: user by id: %w", err)
	}
	u.Created = fromMillis(created)
	return u, nil
}

func isUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

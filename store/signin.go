package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// newSignInToken returns a fresh link token and the hash that is stored.
func newSignInToken() (token string, hash []byte) {
	var b [32]byte
	rand.Read(b[:]) // never fails on supported platforms
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// insertSignInLink replaces any unused link of user with a new one.
func insertSignInLink(ctx context.Context, q querier, user int64, by chat.User, now time.Time) (string, time.Time, error) {
	if _, err := q.ExecContext(ctx, `DELETE FROM sign_in_links WHERE user_id = ? AND used_at IS NULL`, user); err != nil {
		return "", time.Time{}, fmt.Errorf("store: sign-in link: %w", err)
	}
	token, hash := newSignInToken()
	expires := now.Add(chat.SignInLinkLifetime)
	if _, err := q.ExecContext(ctx, `
		INSERT INTO sign_in_links (token_hash, user_id, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		hash, user, actor(by), millis(now), millis(expires)); err != nil {
		return "", time.Time{}, fmt.Errorf("store: sign-in link: %w", err)
	}
	return token, expires, nil
}

// CreateSignInLink makes a one-time link for an active person to set their
// password (an admin's doing), replacing any unused earlier one.
func (s *Store) CreateSignInLink(ctx context.Context, username string, by chat.User) (chat.Invite, error) {
	var inv chat.Invite
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		if !by.Admin {
			return nil, chat.Errorf(chat.Forbidden, "Only admins can make sign-in links.")
		}
		p, err := personByName(ctx, q, username)
		if err != nil {
			return nil, err
		}
		if p.Deactivated {
			return nil, chat.Errorf(chat.Invalid, "%s is deactivated: reactivate the account first.", p.Name)
		}
		inv.Person = p
		inv.Token, inv.Expires, err = insertSignInLink(ctx, q, p.ID, by, now)
		return nil, err
	})
	return inv, err
}

var errLinkUsed = chat.Errorf(chat.NotFound, "This sign-in link has expired or was already used. Ask an admin for a new one.")

// SignInLinkUser returns whose unused, unexpired link token is.
func (s *Store) SignInLinkUser(ctx context.Context, token string) (chat.User, error) {
	return linkUser(ctx, s.rq, token, s.now())
}

func linkUser(ctx context.Context, q querier, token string, now time.Time) (chat.User, error) {
	var u chat.User
	var created int64
	err := q.QueryRowContext(ctx, `
		SELECT u.id, u.username, u.is_admin, u.created_at
		FROM sign_in_links l JOIN users u ON u.id = l.user_id
		WHERE l.token_hash = ? AND l.used_at IS NULL AND l.expires_at > ? AND u.deactivated_at IS NULL`,
		hashToken(token), millis(now)).Scan(&u.ID, &u.Name, &u.Admin, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return u, errLinkUsed
	}
	if err != nil {
		return u, fmt.Errorf("store: sign-in link: %w", err)
	}
	u.Created = fromMillis(created)
	return u, nil
}

// UseSignInLink spends a link: it sets the person's password and makes the
// link worthless, atomically, so two uses cannot both succeed.
func (s *Store) UseSignInLink(ctx context.Context, token, passwordHash string) (chat.User, error) {
	var u chat.User
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		var err error
		if u, err = linkUser(ctx, q, token, now); err != nil {
			return nil, err
		}
		if _, err := q.ExecContext(ctx, `UPDATE sign_in_links SET used_at = ? WHERE token_hash = ?`, millis(now), hashToken(token)); err != nil {
			return nil, fmt.Errorf("store: use sign-in link: %w", err)
		}
		if _, err := q.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, u.ID); err != nil {
			return nil, fmt.Errorf("store: set password: %w", err)
		}
		return nil, nil
	})
	return u, err
}

// ImportPeople creates an account per row, with its details and a sign-in
// link, all in one transaction: if any row cannot be imported (its username
// is taken), nothing is, and the row errors say why.
func (s *Store) ImportPeople(ctx context.Context, rows []chat.ImportRow, by chat.User) ([]chat.Invite, []chat.RowError, error) {
	var invites []chat.Invite
	var rowErrs []chat.RowError
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		if !by.Admin {
			return nil, chat.Errorf(chat.Forbidden, "Only admins can import people.")
		}
		invites, rowErrs = nil, nil
		for _, row := range rows {
			inv, err := importRow(ctx, q, row, by, now)
			if chat.CodeOf(err) == chat.Conflict {
				rowErrs = append(rowErrs, chat.RowError{Line: row.Line, Reason: chat.ErrorText(err)})
				continue
			}
			if err != nil {
				return nil, err
			}
			invites = append(invites, inv)
		}
		if len(rowErrs) > 0 {
			return nil, errImportRefused // rolls the whole batch back
		}
		return nil, nil
	})
	if errors.Is(err, errImportRefused) {
		return nil, rowErrs, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return invites, nil, nil
}

var errImportRefused = chat.Errorf(chat.Invalid, "Some rows cannot be imported; nothing was.")

func importRow(ctx context.Context, q querier, row chat.ImportRow, by chat.User, now time.Time) (chat.Invite, error) {
	p := row.Profile
	var id int64
	err := q.QueryRowContext(ctx, `
		INSERT INTO users (username, password_hash, is_admin, created_at,
			display_name, title, department, email, phone, timezone, bio)
		VALUES (?, '', FALSE, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
		row.Username, millis(now), p.DisplayName, p.Title, p.Department, p.Email, p.Phone, p.TimeZone, p.Bio).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Invite{}, chat.FieldErrorf("username", chat.Conflict, "The username %q is taken.", row.Username)
	}
	if err != nil {
		return chat.Invite{}, fmt.Errorf("store: import %q: %w", row.Username, err)
	}
	if err := auditProfile(ctx, q, id, by, chat.Profile{}, p, now); err != nil {
		return chat.Invite{}, err
	}
	inv := chat.Invite{Person: chat.Person{User: chat.User{ID: id, Name: row.Username, Created: now}, Profile: p}}
	inv.Token, inv.Expires, err = insertSignInLink(ctx, q, id, by, now)
	return inv, err
}

// DeleteSessionsOf ends every stored session whose data belongs to the
// user, as owns decides (the session format is the HTTP layer's). It scans
// every session: fine for a rare admin action.
func (s *Store) DeleteSessionsOf(ctx context.Context, owns func(data []byte) bool) (int, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT token, data FROM sessions`)
	if err != nil {
		return 0, fmt.Errorf("store: sessions: %w", err)
	}
	var tokens []string
	for rows.Next() {
		var token string
		var data []byte
		if err := rows.Scan(&token, &data); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: sessions: %w", err)
		}
		if owns(data) {
			tokens = append(tokens, token)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: sessions: %w", err)
	}
	for _, t := range tokens {
		if err := s.Sessions().DeleteCtx(ctx, t); err != nil {
			return 0, err
		}
	}
	return len(tokens), nil
}

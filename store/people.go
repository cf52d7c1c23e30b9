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

// personColumns are what scanPerson reads, in its order.
const personColumns = `id, username, is_admin, created_at, deactivated_at IS NOT NULL, light,
	display_name, title, department, email, phone, timezone, bio, last_seen_at`

type scanner interface{ Scan(dest ...any) error }

func scanPerson(row scanner) (chat.Person, error) {
	var p chat.Person
	var created, seen int64
	err := row.Scan(&p.ID, &p.Name, &p.Admin, &created, &p.Deactivated, &p.Light,
		&p.DisplayName, &p.Title, &p.Department, &p.Email, &p.Phone, &p.TimeZone, &p.Bio, &seen)
	p.Created = fromMillis(created)
	p.User.Display, p.User.Zone = p.DisplayName, p.TimeZone
	if seen > 0 {
		p.LastSeen = fromMillis(seen)
	}
	return p, err
}

// People returns a page of the directory, sorted by the name people see.
func (s *Store) People(ctx context.Context, q chat.PeopleQuery) ([]chat.Person, error) {
	like := "%" + escapeLike(strings.TrimSpace(q.Search)) + "%"
	rows, err := s.rq.QueryContext(ctx, `
		SELECT `+personColumns+` FROM users
		WHERE (?1 OR deactivated_at IS NULL) AND site_id IS NULL
		  AND (username LIKE ?2 ESCAPE '\' OR display_name LIKE ?2 ESCAPE '\'
		       OR title LIKE ?2 ESCAPE '\' OR department LIKE ?2 ESCAPE '\')
		ORDER BY CASE display_name WHEN '' THEN username ELSE display_name END COLLATE NOCASE, id
		LIMIT ?3 OFFSET ?4`, q.Deactivated, like, q.Limit, max(0, q.Offset))
	if err != nil {
		return nil, fmt.Errorf("store: people: %w", err)
	}
	defer rows.Close()
	var out []chat.Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, fmt.Errorf("store: people: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// escapeLike makes s match itself in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Person finds one person's directory entry by username.
func (s *Store) Person(ctx context.Context, username string) (chat.Person, error) {
	return personByName(ctx, s.rq, username)
}

func personByName(ctx context.Context, q querier, username string) (chat.Person, error) {
	p, err := scanPerson(q.QueryRowContext(ctx, `SELECT `+personColumns+` FROM users WHERE username = ? AND site_id IS NULL`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return p, chat.Errorf(chat.NotFound, "Nobody has the username %q.", username)
	}
	if err != nil {
		return p, fmt.Errorf("store: person: %w", err)
	}
	return p, nil
}

// UpdateProfile replaces a person's details with p (already cleaned) and
// records each changed field in the audit trail, in one transaction.
func (s *Store) UpdateProfile(ctx context.Context, username string, p chat.Profile, by chat.User) (chat.Person, error) {
	var out chat.Person
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		old, err := personByName(ctx, q, username)
		if err != nil {
			return nil, err
		}
		if !chat.CanEditProfile(by, old.User) {
			return nil, chat.Errorf(chat.Forbidden, "Only %s and admins can change these details.", old.Name)
		}
		if _, err := q.ExecContext(ctx, `
			UPDATE users SET display_name = ?, title = ?, department = ?, email = ?, phone = ?, timezone = ?, bio = ?
			WHERE id = ?`, p.DisplayName, p.Title, p.Department, p.Email, p.Phone, p.TimeZone, p.Bio, old.ID); err != nil {
			return nil, fmt.Errorf("store: update profile: %w", err)
		}
		if err := auditProfile(ctx, q, old.ID, by, old.Profile, p, now); err != nil {
			return nil, err
		}
		out = old
		out.Profile = p
		out.User.Display, out.User.Zone = p.DisplayName, p.TimeZone
		return nil, nil
	})
	if err == nil {
		s.cache.userChanged(out.User) // their next message shows the new name
	}
	return out, err
}

// auditProfile keeps one audit row per field that differs between old and new.
func auditProfile(ctx context.Context, q querier, user int64, by chat.User, old, new chat.Profile, now time.Time) error {
	for _, f := range chat.ProfileFields {
		was, is := f.Value(old), f.Value(new)
		if was == is {
			continue
		}
		if err := audit(ctx, q, user, by, f.Name, was, is, now); err != nil {
			return err
		}
	}
	return nil
}

// audit records a change to user's account by by (CommandLine: no one).
func audit(ctx context.Context, q querier, user int64, by chat.User, field, old, new string, now time.Time) error {
	if _, err := q.ExecContext(ctx, `
		INSERT INTO profile_changes (user_id, changed_by, field, old_value, new_value, changed_at)
		VALUES (?, ?, ?, ?, ?, ?)`, user, actor(by), field, old, new, millis(now)); err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// ProfileChanges returns the newest limit entries of a person's audit trail.
func (s *Store) ProfileChanges(ctx context.Context, username string, limit int) ([]chat.ProfileChange, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT c.id, u.username, COALESCE(b.username, ''), c.field, c.old_value, c.new_value, c.changed_at
		FROM profile_changes c JOIN users u ON u.id = c.user_id LEFT JOIN users b ON b.id = c.changed_by
		WHERE u.username = ? ORDER BY c.id DESC LIMIT ?`, username, limit)
	if err != nil {
		return nil, fmt.Errorf("store: profile changes: %w", err)
	}
	defer rows.Close()
	var out []chat.ProfileChange
	for rows.Next() {
		var c chat.ProfileChange
		var at int64
		if err := rows.Scan(&c.ID, &c.User, &c.By, &c.Field, &c.Old, &c.New, &at); err != nil {
			return nil, fmt.Errorf("store: profile changes: %w", err)
		}
		c.At = fromMillis(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetDeactivated deactivates (or reactivates) an account, by an admin. A
// deactivated account cannot sign in and drops out of the directory,
// conversations and announcements; its history stays.
func (s *Store) SetDeactivated(ctx context.Context, username string, deactivate bool, by chat.User) (chat.User, error) {
	var out chat.User
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		if !by.Admin {
			return nil, chat.Errorf(chat.Forbidden, "Only admins can deactivate accounts.")
		}
		p, err := personByName(ctx, q, username)
		if err != nil {
			return nil, err
		}
		if p.ID == by.ID {
			return nil, chat.Errorf(chat.Invalid, "You cannot deactivate your own account.")
		}
		out = p.User
		if p.Deactivated == deactivate {
			return nil, nil
		}
		var at any
		if deactivate {
			at = millis(now)
		}
		if _, err := q.ExecContext(ctx, `UPDATE users SET deactivated_at = ? WHERE id = ?`, at, p.ID); err != nil {
			return nil, fmt.Errorf("store: deactivate: %w", err)
		}
		out.Deactivated = deactivate
		return nil, audit(ctx, q, p.ID, by, "account", accountState(p.Deactivated), accountState(deactivate), now)
	})
	if err == nil {
		s.cache.userChanged(out)
	}
	return out, err
}

func accountState(deactivated bool) string {
	if deactivated {
		return "deactivated"
	}
	return "active"
}

// TouchLastSeen records that user used the app at. Callers throttle it;
// the condition keeps an older time from overwriting a newer one.
func (s *Store) TouchLastSeen(ctx context.Context, user int64, at time.Time) error {
	if _, err := s.wq.ExecContext(ctx, `UPDATE users SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`,
		millis(at), user, millis(at)); err != nil {
		return fmt.Errorf("store: last seen: %w", err)
	}
	return nil
}

// AllPeople returns every active person (and deactivated ones if asked),
// in directory order, for export.
func (s *Store) AllPeople(ctx context.Context, deactivated bool) ([]chat.Person, error) {
	return s.People(ctx, chat.PeopleQuery{Deactivated: deactivated, Limit: -1})
}

package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

const siteColumns = `id, origin, all_public, guests, accent, bg, font, density, scheme,
	disabled_at IS NOT NULL, created_at, secret_rotated_at`

var errNoSite = chat.Errorf(chat.NotFound, "No such site.")

var errAdminsOnly = chat.Errorf(chat.Forbidden, "Only admins can manage embedding sites.")

// CreateSite registers a site that may embed rooms (admins only) and
// returns it with its signing secret, which is shown once.
func (s *Store) CreateSite(ctx context.Context, by chat.User, site chat.Site) (chat.Site, string, error) {
	secret := chat.NewSiteSecret()
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		if !by.Admin {
			return nil, errAdminsOnly
		}
		t := site.Theme
		err := q.QueryRowContext(ctx, `
			INSERT INTO embed_sites (origin, all_public, guests, secret, accent, bg, font, density, scheme, created_by, created_at, secret_rotated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			site.Origin, site.AllPublic, site.Guests, secret, t.Accent, t.Bg, t.Font, t.Density, t.Scheme, by.ID, millis(now), millis(now)).Scan(&site.ID)
		if isUnique(err) {
			return nil, chat.FieldErrorf("origin", chat.Conflict, "%s is registered already.", site.Origin)
		}
		if err != nil {
			return nil, fmt.Errorf("store: create site: %w", err)
		}
		site.Created, site.SecretRotated = fromMillis(millis(now)), fromMillis(millis(now))
		return nil, setSiteRooms(ctx, q, site.ID, site.Rooms)
	})
	return site, secret, err
}

// UpdateSite changes a site's rooms, guest policy and theme (admins only).
func (s *Store) UpdateSite(ctx context.Context, by chat.User, site chat.Site) error {
	_, err := s.write(ctx, func(ctx context.Context, q querier, _ time.Time) ([]chat.Message, error) {
		if !by.Admin {
			return nil, errAdminsOnly
		}
		t := site.Theme
		res, err := q.ExecContext(ctx, `
			UPDATE embed_sites SET all_public = ?, guests = ?, accent = ?, bg = ?, font = ?, density = ?, scheme = ? WHERE id = ?`,
			site.AllPublic, site.Guests, t.Accent, t.Bg, t.Font, t.Density, t.Scheme, site.ID)
		if err != nil {
			return nil, fmt.Errorf("store: update site: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, errNoSite
		}
		return nil, setSiteRooms(ctx, q, site.ID, site.Rooms)
	})
	return err
}

// setSiteRooms replaces a site's room list; each must be a public room.
func setSiteRooms(ctx context.Context, q querier, site int64, rooms []int64) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM embed_site_rooms WHERE site_id = ?`, site); err != nil {
		return fmt.Errorf("store: site rooms: %w", err)
	}
	for _, r := range rooms {
		kind, err := roomKind(ctx, q, r)
		if err != nil || kind != chat.KindRoom {
			return chat.FieldErrorf("rooms", chat.Invalid, "Room %d is not a public room.", r)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO embed_site_rooms (site_id, room_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, site, r); err != nil {
			return fmt.Errorf("store: site rooms: %w", err)
		}
	}
	return nil
}

// RotateSiteSecret makes a new signing secret for a site (admins only):
// tokens signed with the old one stop working at once.
func (s *Store) RotateSiteSecret(ctx context.Context, by chat.User, id int64) (string, error) {
	secret := chat.NewSiteSecret()
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		if !by.Admin {
			return nil, errAdminsOnly
		}
		res, err := q.ExecContext(ctx, `UPDATE embed_sites SET secret = ?, secret_rotated_at = ? WHERE id = ?`, secret, millis(now), id)
		if err != nil {
			return nil, fmt.Errorf("store: rotate secret: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, errNoSite
		}
		return nil, nil
	})
	return secret, err
}

// SetSiteDisabled stops (or lets again) a site embed rooms (admins only).
func (s *Store) SetSiteDisabled(ctx context.Context, by chat.User, id int64, disabled bool) error {
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		if !by.Admin {
			return nil, errAdminsOnly
		}
		var at any
		if disabled {
			at = millis(now)
		}
		res, err := q.ExecContext(ctx, `UPDATE embed_sites SET disabled_at = ? WHERE id = ?`, at, id)
		if err != nil {
			return nil, fmt.Errorf("store: disable site: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, errNoSite
		}
		return nil, nil
	})
	return err
}

// Sites lists the registered sites, oldest first, without their rooms.
func (s *Store) Sites(ctx context.Context) ([]chat.Site, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT `+siteColumns+` FROM embed_sites ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: sites: %w", err)
	}
	defer rows.Close()
	var sites []chat.Site
	for rows.Next() {
		site, err := scanSite(rows)
		if err != nil {
			return nil, fmt.Errorf("store: sites: %w", err)
		}
		sites = append(sites, site)
	}
	return sites, rows.Err()
}

// Site returns a site with its rooms, and its signing secret (to verify
// tokens, never to show).
func (s *Store) Site(ctx context.Context, id int64) (chat.Site, string, error) {
	var secret string
	site, err := scanSite(s.rq.QueryRowContext(ctx, `SELECT `+siteColumns+`, secret FROM embed_sites WHERE id = ?`, id), &secret)
	if errors.Is(err, sql.ErrNoRows) {
		return site, "", errNoSite
	}
	if err != nil {
		return site, "", fmt.Errorf("store: site: %w", err)
	}
	rows, err := s.rq.QueryContext(ctx, `SELECT room_id FROM embed_site_rooms WHERE site_id = ? ORDER BY room_id`, id)
	if err != nil {
		return site, "", fmt.Errorf("store: site rooms: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r int64
		if err := rows.Scan(&r); err != nil {
			return site, "", fmt.Errorf("store: site rooms: %w", err)
		}
		site.Rooms = append(site.Rooms, r)
	}
	return site, secret, rows.Err()
}

func scanSite(row interface{ Scan(...any) error }, more ...any) (chat.Site, error) {
	var site chat.Site
	var created, rotated int64
	t := &site.Theme
	dest := append([]any{&site.ID, &site.Origin, &site.AllPublic, &site.Guests, &t.Accent, &t.Bg, &t.Font, &t.Density, &t.Scheme,
		&site.Disabled, &created, &rotated}, more...)
	if err := row.Scan(dest...); err != nil {
		return site, err
	}
	site.Created, site.SecretRotated = fromMillis(created), fromMillis(rotated)
	return site, nil
}

// EmbedOrigins lists the origins that may frame room: the enabled sites
// that list it, or embed every public room when it is one.
func (s *Store) EmbedOrigins(ctx context.Context, room int64) ([]string, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT es.origin FROM embed_sites es
		WHERE es.disabled_at IS NULL AND (
			EXISTS (SELECT 1 FROM embed_site_rooms r WHERE r.site_id = es.id AND r.room_id = ?1)
			OR (es.all_public AND EXISTS (SELECT 1 FROM rooms WHERE id = ?1 AND kind = ?2)))
		ORDER BY es.origin`, room, chat.KindRoom)
	if err != nil {
		return nil, fmt.Errorf("store: embed origins: %w", err)
	}
	defer rows.Close()
	var origins []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, fmt.Errorf("store: embed origins: %w", err)
		}
		origins = append(origins, o)
	}
	return origins, rows.Err()
}

// EmbedSignIn spends a verified token for room, all in one transaction: its
// nonce is recorded (a second use is refused), the site's user is created
// or renamed, and made a member of room if they are not yet.
func (s *Store) EmbedSignIn(ctx context.Context, site chat.Site, c chat.EmbedClaims, room int64) (chat.User, error) {
	u := chat.User{Name: c.Name, Site: site.Label()}
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		if err := spendNonce(ctx, q, site.ID, c); err != nil {
			return nil, err
		}
		kind, err := roomKind(ctx, q, room)
		if err != nil {
			return nil, err
		}
		var disabled bool
		if err := q.QueryRowContext(ctx, `SELECT disabled_at IS NOT NULL FROM embed_sites WHERE id = ?`, site.ID).Scan(&disabled); err != nil || disabled {
			return nil, chat.ErrEmbedSiteUnavailable
		}
		if !site.Allows(room, kind) {
			return nil, chat.ErrEmbedTokenWrongRoom
		}
		if err := upsertSiteUser(ctx, q, site.ID, c, now, &u); err != nil {
			return nil, err
		}
		var member bool
		if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM memberships WHERE user_id = ? AND room_id = ?)`, u.ID, room).Scan(&member); err != nil {
			return nil, fmt.Errorf("store: embed sign-in: %w", err)
		}
		if member {
			return nil, nil
		}
		m, err := addMember(ctx, q, room, u, now)
		return []chat.Message{m}, err
	})
	if err == nil {
		s.cache.userChanged(u)
	}
	return u, err
}

func spendNonce(ctx context.Context, q querier, site int64, c chat.EmbedClaims) error {
	res, err := q.ExecContext(ctx, `INSERT INTO embed_nonces (site_id, nonce, expiry) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		site, c.Nonce, (c.Exp+60)*1000)
	if err != nil {
		return fmt.Errorf("store: embed nonce: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return chat.ErrEmbedTokenReplayed
	}
	return nil
}

// upsertSiteUser finds or creates the account of the site's user c.Sub and
// gives it the name the site sends now.
func upsertSiteUser(ctx context.Context, q querier, site int64, c chat.EmbedClaims, now time.Time, u *chat.User) error {
	sum := sha256.Sum256([]byte(c.Sub))
	username := "~" + strconv.FormatInt(site, 10) + "~" + hex.EncodeToString(sum[:8])
	var created int64
	err := q.QueryRowContext(ctx, `
		INSERT INTO users (username, password_hash, is_admin, created_at, display_name, site_id, external_id)
		VALUES (?, '', FALSE, ?, ?, ?, ?)
		ON CONFLICT (site_id, external_id) WHERE site_id IS NOT NULL DO UPDATE SET display_name = excluded.display_name
		RETURNING id, created_at, deactivated_at IS NOT NULL, light`,
		username, millis(now), c.Name, site, c.Sub).Scan(&u.ID, &created, &u.Deactivated, &u.Light)
	if err != nil {
		return fmt.Errorf("store: embed user: %w", err)
	}
	if u.Deactivated {
		return chat.Errorf(chat.Unauthorized, "This account has been deactivated.")
	}
	u.Created = fromMillis(created)
	return nil
}

// RoomMessagesAfter returns up to limit messages of room posted or changed
// after the event id after, in event order: what a guest's reconnecting
// stream must replay.
func (s *Store) RoomMessagesAfter(ctx context.Context, room, after int64, limit int) ([]chat.Message, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT * FROM (
			SELECT `+messageColumns+` FROM `+messageSource+` WHERE m.room_id = ?1 AND m.id > ?2
			UNION ALL
			SELECT `+messageColumns+` FROM `+messageSource+`
			WHERE m.changed > ?2 AND m.changed > 0 AND m.id <= ?2 AND m.room_id = ?1) AS missed
		ORDER BY CASE WHEN changed > id THEN changed ELSE id END LIMIT ?3`, room, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: room messages: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("store: room messages: %w", err)
	}
	return msgs, nil
}

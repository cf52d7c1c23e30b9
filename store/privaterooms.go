package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// IsRoomAdmin reports whether user is one of room's admins.
func (s *Store) IsRoomAdmin(ctx context.Context, room, user int64) (bool, error) {
	_, admin, err := membership(ctx, s.rq, room, user)
	return admin, err
}

// UpdateRoom changes a room's settings on behalf of by, one of its
// managers (chat.CanManage). A public room's name must be unique among
// public rooms; a private one's need not be.
func (s *Store) UpdateRoom(ctx context.Context, room int64, by chat.User, set chat.RoomSettings) (chat.Room, error) {
	var r chat.Room
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		var admin bool
		var err error
		if r, admin, err = roomFor(ctx, q, room, by); err != nil {
			return nil, err
		}
		if r.Conversation() || !chat.CanManage(by, r, admin) {
			return nil, chat.Errorf(chat.Forbidden, "Only the room's admins can change its settings.")
		}
		if set.Kind != chat.KindRoom && set.Kind != chat.KindPrivate {
			return nil, chat.FieldErrorf("visibility", chat.Invalid, "A room is public or private.")
		}
		_, err = q.ExecContext(ctx, `UPDATE rooms SET name = ?, topic = ?, kind = ? WHERE id = ?`, set.Name, set.Topic, set.Kind, room)
		if isUnique(err) {
			return nil, chat.FieldErrorf("name", chat.Conflict, "A public room named %q already exists.", set.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("store: update room: %w", err)
		}
		s.cache.dropRoomName(room)
		r.Name, r.Topic, r.Kind = set.Name, set.Topic, set.Kind
		return nil, nil
	})
	return r, err
}

// NameConversation gives a group conversation a name, or with "" takes it
// away (the group is named by its members again). Any member may.
func (s *Store) NameConversation(ctx context.Context, room int64, by chat.User, name string) error {
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		r, _, err := roomFor(ctx, q, room, by)
		if err != nil {
			return nil, err
		}
		if r.Kind != chat.KindGroup {
			return nil, chat.Errorf(chat.Invalid, "Only a group conversation can be named.")
		}
		if _, err := q.ExecContext(ctx, `UPDATE rooms SET group_name = ? WHERE id = ?`, name, room); err != nil {
			return nil, fmt.Errorf("store: name conversation: %w", err)
		}
		s.cache.dropRoomName(room)
		return nil, nil
	})
	return err
}

// AddMember adds the person with username to room on behalf of by: to a
// room if by manages it, to a group conversation if by is in it. They are
// in at once, with a line saying who added them; their streams carry the
// room from this commit on, so it appears on their pages live.
func (s *Store) AddMember(ctx context.Context, room int64, username string, by chat.User) (chat.User, error) {
	var added chat.User
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		r, admin, err := roomFor(ctx, q, room, by)
		if err != nil {
			return nil, err
		}
		if err := checkAdd(r, by, admin); err != nil {
			return nil, err
		}
		if added, err = activeUser(ctx, q, username); err != nil {
			return nil, err
		}
		m, err := s.addInvited(ctx, q, r, added, by, now)
		if err != nil {
			return nil, err
		}
		return []chat.Message{m}, nil
	})
	return added, err
}

func checkAdd(r chat.Room, by chat.User, admin bool) error {
	switch {
	case r.Kind == chat.KindDirect:
		return chat.Errorf(chat.Invalid, "A direct conversation stays between the two of you: start a group conversation to include more people.")
	case r.Kind == chat.KindGroup && r.Members > chat.MaxConversationPeople:
		return chat.FieldErrorf("username", chat.Invalid, "A conversation can include at most %d people besides you.", chat.MaxConversationPeople)
	case !r.Conversation() && !chat.CanManage(by, r, admin):
		return chat.Errorf(chat.Forbidden, "Only the room's admins can invite people.")
	}
	return nil
}

// addInvited makes u a member of r, added by by, and returns the line
// that says so. A group's name and member key follow its new members.
func (s *Store) addInvited(ctx context.Context, q querier, r chat.Room, u, by chat.User, now time.Time) (chat.Message, error) {
	in, _, err := membership(ctx, q, r.ID, u.ID)
	if err != nil {
		return chat.Message{}, err
	}
	if in {
		return chat.Message{}, chat.FieldErrorf("username", chat.Conflict, "%s is already a member.", u.Name)
	}
	if _, err := q.ExecContext(ctx, `
		INSERT INTO memberships (user_id, room_id, joined_at) VALUES (?, ?, ?)`, u.ID, r.ID, millis(now)); err != nil {
		return chat.Message{}, fmt.Errorf("store: add member: %w", err)
	}
	if r.Kind == chat.KindGroup {
		if err := s.renameConversation(ctx, q, r.ID); err != nil {
			return chat.Message{}, err
		}
	}
	return membershipLine(ctx, q, r.ID, u, chat.KindJoin, by.Name, now)
}

// activeUser finds an active local account by username.
func activeUser(ctx context.Context, q querier, username string) (chat.User, error) {
	var u chat.User
	var created int64
	err := q.QueryRowContext(ctx, `
		SELECT id, username, is_admin, created_at FROM users
		WHERE username = ? AND deactivated_at IS NULL AND site_id IS NULL`, strings.TrimSpace(username)).
		Scan(&u.ID, &u.Name, &u.Admin, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return u, chat.FieldErrorf("username", chat.NotFound, "Nobody active has the username %q.", strings.TrimSpace(username))
	}
	if err != nil {
		return u, fmt.Errorf("store: find user: %w", err)
	}
	u.Created = fromMillis(created)
	return u, nil
}

// SetRoomAdmin makes member one of room's admins, or (admin false) no
// longer one, on behalf of by: the room's creator or a site admin.
func (s *Store) SetRoomAdmin(ctx context.Context, room int64, member, by chat.User, admin bool) error {
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		r, _, err := roomFor(ctx, q, room, by)
		if err != nil {
			return nil, err
		}
		if !chat.CanAppoint(by, r) {
			return nil, chat.Errorf(chat.Forbidden, "Only the room's creator or a site admin can choose its admins.")
		}
		in, _, err := membership(ctx, q, room, member.ID)
		if err != nil {
			return nil, err
		}
		if !in {
			return nil, chat.Errorf(chat.NotFound, "%s is not a member of this room.", member.Name)
		}
		if !admin && member.ID == r.CreatedBy {
			return nil, chat.Errorf(chat.Invalid, "A room's creator is always one of its admins.")
		}
		return nil, setRoomAdmin(ctx, q, room, member.ID, admin)
	})
	return err
}

// CreateInviteLink makes a link to room that lets people join it for
// lifetime, maxUses of them (0: any number), on behalf of one of the
// room's managers. The token is in the result only: the store keeps its
// hash.
func (s *Store) CreateInviteLink(ctx context.Context, room int64, by chat.User, lifetime time.Duration, maxUses int) (chat.InviteLink, error) {
	var l chat.InviteLink
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		r, admin, err := roomFor(ctx, q, room, by)
		if err != nil {
			return nil, err
		}
		if r.Conversation() || !chat.CanManage(by, r, admin) {
			return nil, chat.Errorf(chat.Forbidden, "Only the room's admins can make invite links.")
		}
		token, hash := newSignInToken()
		l = chat.InviteLink{RoomID: room, Token: token, CreatedBy: by.Name, Created: fromMillis(millis(now)),
			Expires: fromMillis(millis(now.Add(lifetime))), MaxUses: maxUses}
		err = q.QueryRowContext(ctx, `
			INSERT INTO room_invites (token_hash, room_id, created_by, created_at, expires_at, max_uses, since_message)
			VALUES (?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(id), 0) FROM messages))
			RETURNING id`, hash, room, by.ID, millis(now), millis(l.Expires), maxUses).Scan(&l.ID)
		if err != nil {
			return nil, fmt.Errorf("store: create invite link: %w", err)
		}
		return nil, nil
	})
	return l, err
}

// inviteValid is the condition, on room_invites i and its rooms r at
// ?1 (now), that a link still works: not revoked, not expired, not used up,
// and its maker can still manage the room (a room admin there, or an
// active site admin who can see it). So a link dies with its maker's
// right to invite.
const inviteValid = `i.revoked_at IS NULL AND i.expires_at > ?1 AND (i.max_uses = 0 OR i.uses < i.max_uses)
	AND r.kind IN (0, 3) AND EXISTS (
		SELECT 1 FROM users mk LEFT JOIN memberships mm ON mm.user_id = mk.id AND mm.room_id = i.room_id
		WHERE mk.id = i.created_by AND mk.deactivated_at IS NULL
		  AND (mm.room_admin = TRUE OR (mk.is_admin AND (mm.user_id IS NOT NULL OR r.kind = 0))))`

// InviteLinks lists room's working invite links, newest first, for one of
// its managers.
func (s *Store) InviteLinks(ctx context.Context, room int64, by chat.User) ([]chat.InviteLink, error) {
	r, admin, err := roomFor(ctx, s.rq, room, by)
	if err != nil {
		return nil, err
	}
	if !chat.CanManage(by, r, admin) {
		return nil, chat.Errorf(chat.Forbidden, "Only the room's admins can see its invite links.")
	}
	rows, err := s.rq.QueryContext(ctx, `
		SELECT i.id, i.room_id, u.username, i.created_at, i.expires_at, i.max_uses, i.uses
		FROM room_invites i JOIN rooms r ON r.id = i.room_id JOIN users u ON u.id = i.created_by
		WHERE i.room_id = ?2 AND `+inviteValid+`
		ORDER BY i.id DESC`, millis(s.now()), room)
	if err != nil {
		return nil, fmt.Errorf("store: invite links: %w", err)
	}
	defer rows.Close()
	var out []chat.InviteLink
	for rows.Next() {
		var l chat.InviteLink
		var created, expires int64
		if err := rows.Scan(&l.ID, &l.RoomID, &l.CreatedBy, &created, &expires, &l.MaxUses, &l.Uses); err != nil {
			return nil, fmt.Errorf("store: invite links: %w", err)
		}
		l.Created, l.Expires = fromMillis(created), fromMillis(expires)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: invite links: %w", err)
	}
	return out, nil
}

// RevokeInviteLink stops an invite link of room working, on behalf of one
// of the room's managers.
func (s *Store) RevokeInviteLink(ctx context.Context, room, link int64, by chat.User) error {
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		r, admin, err := roomFor(ctx, q, room, by)
		if err != nil {
			return nil, err
		}
		if !chat.CanManage(by, r, admin) {
			return nil, chat.Errorf(chat.Forbidden, "Only the room's admins can revoke its invite links.")
		}
		res, err := q.ExecContext(ctx, `
			UPDATE room_invites SET revoked_at = ? WHERE id = ? AND room_id = ? AND revoked_at IS NULL`, millis(now), link, room)
		if err != nil {
			return nil, fmt.Errorf("store: revoke invite link: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, chat.Errorf(chat.NotFound, "No such invite link.")
		}
		return nil, nil
	})
	return err
}

var errInviteGone = chat.Errorf(chat.NotFound, "This invite link has expired, was used up or was revoked. Ask a room admin for a new one.")

// InviteFor reads the invitation that token makes to user, without
// spending it. A link that does not work is NotFound; one made before
// user was removed from its room is Forbidden to them.
func (s *Store) InviteFor(ctx context.Context, token string, user int64) (chat.Invitation, error) {
	return inviteFor(ctx, s.rq, token, user, s.now())
}

// JoinByInvite makes user a member of the invitation's room and counts a
// use of the link; a member already spends nothing.
func (s *Store) JoinByInvite(ctx context.Context, token string, user chat.User) (chat.Room, error) {
	var inv chat.Invitation
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		var err error
		if inv, err = inviteFor(ctx, q, token, user.ID, now); err != nil || inv.Member {
			return nil, err
		}
		if _, err := q.ExecContext(ctx, `UPDATE room_invites SET uses = uses + 1 WHERE id = ?`, inv.Link.ID); err != nil {
			return nil, fmt.Errorf("store: use invite link: %w", err)
		}
		m, err := addMember(ctx, q, inv.Room.ID, user, now)
		if err != nil {
			return nil, err
		}
		inv.Room.Members++
		return []chat.Message{m}, nil
	})
	return inv.Room, err
}

// removedKind is chat.KindRemoved as an SQL literal: SQLite uses the
// partial index of removals only for a query that names its kind so.
var removedKind = strconv.Itoa(int(chat.KindRemoved))

var removedSince = `SELECT EXISTS (SELECT 1 FROM messages
	WHERE author_id = ? AND room_id = ? AND kind = ` + removedKind + ` AND id > ?)`

// Removals returns, in id order, the lines newer than after that removed
// user from rooms they are still out of: a resuming stream tells its pages
// of them, since Missed carries only the rooms user is in.
func (s *Store) Removals(ctx context.Context, user, after int64) ([]chat.Message, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT `+messageColumns+`
		FROM `+messageSource+`
		WHERE m.author_id = ?1 AND m.kind = `+removedKind+` AND m.id > ?2
		  AND m.room_id NOT IN (SELECT room_id FROM memberships WHERE user_id = ?1)
		ORDER BY m.id`, user, after)
	if err != nil {
		return nil, fmt.Errorf("store: removals: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("store: removals: %w", err)
	}
	return msgs, nil
}

func inviteFor(ctx context.Context, q querier, token string, user int64, now time.Time) (chat.Invitation, error) {
	var inv chat.Invitation
	var since, created, expires int64
	r := &inv.Room
	err := q.QueryRowContext(ctx, `
		SELECT i.id, u.username, i.created_at, i.expires_at, i.max_uses, i.uses, i.since_message,
		       r.id, r.kind, r.name, r.topic, r.created_by,
		       (SELECT COUNT(*) FROM memberships WHERE room_id = r.id),
		       EXISTS (SELECT 1 FROM memberships WHERE room_id = r.id AND user_id = ?2)
		FROM room_invites i JOIN rooms r ON r.id = i.room_id JOIN users u ON u.id = i.created_by
		WHERE i.token_hash = ?3 AND `+inviteValid,
		millis(now), user, hashToken(token)).
		Scan(&inv.Link.ID, &inv.Link.CreatedBy, &created, &expires, &inv.Link.MaxUses, &inv.Link.Uses, &since,
			&r.ID, &r.Kind, &r.Name, &r.Topic, &r.CreatedBy, &r.Members, &inv.Member)
	if errors.Is(err, sql.ErrNoRows) {
		return memberOfLinkRoom(ctx, q, token, user)
	}
	if err != nil {
		return inv, fmt.Errorf("store: invite link: %w", err)
	}
	inv.Link.RoomID, inv.Link.Created, inv.Link.Expires = r.ID, fromMillis(created), fromMillis(expires)
	if inv.Member {
		return inv, nil
	}
	var removed bool
	if err := q.QueryRowContext(ctx, removedSince, user, r.ID, since).Scan(&removed); err != nil {
		return inv, fmt.Errorf("store: invite link: %w", err)
	}
	if removed {
		return inv, chat.Errorf(chat.Forbidden, "You were removed from this room after this link was made. Ask a room admin to invite you again.")
	}
	return inv, nil
}

// memberOfLinkRoom answers for a link that no longer works: a member of
// its room is simply in (a spent single-use link is theirs, likely); to
// anyone else it is gone.
func memberOfLinkRoom(ctx context.Context, q querier, token string, user int64) (chat.Invitation, error) {
	var inv chat.Invitation
	err := q.QueryRowContext(ctx, `
		SELECT i.room_id FROM room_invites i JOIN memberships m ON m.room_id = i.room_id AND m.user_id = ?
		WHERE i.token_hash = ?`, user, hashToken(token)).Scan(&inv.Room.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return inv, errInviteGone
	}
	if err != nil {
		return inv, fmt.Errorf("store: invite link: %w", err)
	}
	inv.Member, inv.Link.RoomID = true, inv.Room.ID
	return inv, nil
}

// roomFor reads room for by, with its member count and whether by is one
// of its admins. A private room or conversation by is not in does not
// exist for them.
func roomFor(ctx context.Context, q querier, room int64, by chat.User) (chat.Room, bool, error) {
	var r chat.Room
	var created int64
	var in, admin bool
	err := q.QueryRowContext(ctx, `
		SELECT r.id, r.kind, r.name, r.topic, r.created_by, r.created_at, r.group_name,
		       (SELECT COUNT(*) FROM memberships WHERE room_id = r.id),
		       m.user_id IS NOT NULL, COALESCE(m.room_admin, FALSE)
		FROM rooms r LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = ?
		WHERE r.id = ?`, by.ID, room).
		Scan(&r.ID, &r.Kind, &r.Name, &r.Topic, &r.CreatedBy, &created, &r.GroupName, &r.Members, &in, &admin)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && r.Private() && !in) {
		return r, false, errNoRoom
	}
	if err != nil {
		return r, false, fmt.Errorf("store: room: %w", err)
	}
	r.Created = fromMillis(created)
	return r, admin, nil
}

// membership reports whether user is in room and one of its admins.
func membership(ctx context.Context, q querier, room, user int64) (in, admin bool, err error) {
	err = q.QueryRowContext(ctx, `
		SELECT room_admin FROM memberships WHERE room_id = ? AND user_id = ?`, room, user).Scan(&admin)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("store: membership: %w", err)
	}
	return true, admin, nil
}

func setRoomAdmin(ctx context.Context, q querier, room, user int64, admin bool) error {
	if _, err := q.ExecContext(ctx, `
		UPDATE memberships SET room_admin = ? WHERE room_id = ? AND user_id = ?`, admin, room, user); err != nil {
		return fmt.Errorf("store: set room admin: %w", err)
	}
	return nil
}

// keepAnAdmin makes the longest-standing member of room one of its admins
// when none is left (the last one left or was removed), so that every room
// with members keeps someone who can manage it.
func keepAnAdmin(ctx context.Context, q querier, room int64) error {
	if _, err := q.ExecContext(ctx, `
		UPDATE memberships SET room_admin = TRUE
		WHERE room_id = ?1 AND NOT EXISTS (SELECT 1 FROM memberships WHERE room_id = ?1 AND room_admin = TRUE)
		  AND user_id = (SELECT user_id FROM memberships WHERE room_id = ?1 ORDER BY joined_at, user_id LIMIT 1)`, room); err != nil {
		return fmt.Errorf("store: keep a room admin: %w", err)
	}
	return nil
}

// disambiguate titles user's rooms apart (chat.Disambiguate), which takes
// their username: a conversation's title leaves its viewer out.
func (s *Store) disambiguate(ctx context.Context, rooms []chat.Room, user int64) error {
	if len(rooms) < 2 {
		return nil
	}
	var name string
	if err := s.rq.QueryRowContext(ctx, `SELECT username FROM users WHERE id = ?`, user).Scan(&name); err != nil {
		return fmt.Errorf("store: rooms: %w", err)
	}
	chat.Disambiguate(rooms, name)
	return nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// otherRoomsLimit caps the "rooms you could join" list; the busiest come first.
const otherRoomsLimit = 100

// CreateRoom creates a public room with creator as its first member and
// room admin, and returns it.
func (s *Store) CreateRoom(ctx context.Context, creator chat.User, name, topic string) (chat.Room, error) {
	return s.createRoom(ctx, creator, name, topic, chat.KindRoom)
}

// CreatePrivateRoom is CreateRoom for a private room: only its members see
// it, and people join it by invitation. Its name need not be unique.
func (s *Store) CreatePrivateRoom(ctx context.Context, creator chat.User, name, topic string) (chat.Room, error) {
	return s.createRoom(ctx, creator, name, topic, chat.KindPrivate)
}

func (s *Store) createRoom(ctx context.Context, creator chat.User, name, topic string, kind chat.RoomKind) (chat.Room, error) {
	var room chat.Room
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		err := q.QueryRowContext(ctx, `
			INSERT INTO rooms (kind, name, topic, created_by, created_at) VALUES (?, ?, ?, ?, ?)
			RETURNING id`, kind, name, topic, creator.ID, millis(now)).Scan(&room.ID)
		if isUnique(err) {
			return nil, chat.FieldErrorf("name", chat.Conflict, "A room named %q already exists.", name)
		}
		if err != nil {
			return nil, fmt.Errorf("store: create room: %w", err)
		}
		room.Kind, room.Name, room.Topic, room.CreatedBy, room.Created, room.Members = kind, name, topic, creator.ID, fromMillis(millis(now)), 1
		m, err := addMember(ctx, q, room.ID, creator, now)
		if err != nil {
			return nil, err
		}
		return []chat.Message{m}, setRoomAdmin(ctx, q, room.ID, creator.ID, true)
	})
	return room, err
}

// Room returns one room with its member count.
func (s *Store) Room(ctx context.Context, id int64) (chat.Room, error) {
	var r chat.Room
	var created int64
	err := s.rq.QueryRowContext(ctx, `
		SELECT id, kind, name, topic, created_by, created_at, group_name,
		       (SELECT COUNT(*) FROM memberships WHERE room_id = rooms.id)
		FROM rooms WHERE id = ?`, id).Scan(&r.ID, &r.Kind, &r.Name, &r.Topic, &r.CreatedBy, &created, &r.GroupName, &r.Members)
	if errors.Is(err, sql.ErrNoRows) {
		return r, chat.Errorf(chat.NotFound, "No such room.")
	}
	if err != nil {
		return r, fmt.Errorf("store: room: %w", err)
	}
	r.Created = fromMillis(created)
	return r, nil
}

// RoomName returns a room's id, kind and name only: a cheaper Room when
// only its name shows.
func (s *Store) RoomName(ctx context.Context, id int64) (chat.Room, error) {
	if r, ok := s.cache.roomName(id); ok {
		return r, nil
	}
	gen := s.cache.generation()
	r := chat.Room{ID: id}
	err := s.rq.QueryRowContext(ctx, `SELECT kind, name, group_name FROM rooms WHERE id = ?`, id).Scan(&r.Kind, &r.Name, &r.GroupName)
	if errors.Is(err, sql.ErrNoRows) {
		return r, errNoRoom
	}
	if err != nil {
		return r, fmt.Errorf("store: room name: %w", err)
	}
	s.cache.putRoomName(r, gen) // dropped when a room is renamed or a conversation's members change
	return r, nil
}

// Rooms lists the rooms and conversations user belongs to (rooms first, by
// name), each titled apart from the others (chat.Disambiguate) and with
// user's unread counts (countUnread), and up to a hundred public rooms they
// could join, busiest first.
func (s *Store) Rooms(ctx context.Context, user int64) (joined, others []chat.Room, err error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT id, kind, name, topic, created_by, created_at, group_name, members, joined
		FROM (
			SELECT r.id, r.kind, r.name, r.topic, r.created_by, r.created_at, r.group_name,
			       (SELECT COUNT(*) FROM memberships m WHERE m.room_id = r.id) AS members,
			       EXISTS (SELECT 1 FROM memberships m WHERE m.room_id = r.id AND m.user_id = ?1) AS joined
			FROM rooms r) AS listed
		WHERE joined OR kind = 0
		ORDER BY joined DESC, kind, CASE WHEN joined THEN 0 ELSE -members END, name COLLATE NOCASE`, user)
	if err != nil {
		return nil, nil, fmt.Errorf("store: rooms: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r chat.Room
		var created int64
		var member bool
		if err := rows.Scan(&r.ID, &r.Kind, &r.Name, &r.Topic, &r.CreatedBy, &created, &r.GroupName, &r.Members, &member); err != nil {
			return nil, nil, fmt.Errorf("store: rooms: %w", err)
		}
		r.Created = fromMillis(created)
		if member {
			joined = append(joined, r)
		} else if len(others) < otherRoomsLimit {
			others = append(others, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("store: rooms: %w", err)
	}
	if err := s.countUnread(ctx, user, joined); err != nil {
		return nil, nil, err
	}
	return joined, others, s.disambiguate(ctx, joined, user)
}

// IsMember reports whether user belongs to room.
func (s *Store) IsMember(ctx context.Context, room, user int64) (bool, error) {
	var ok bool
	err := s.rq.QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM memberships WHERE user_id = ? AND room_id = ?)`, user, room).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("store: is member: %w", err)
	}
	return ok, nil
}

// Join makes user a member of room and posts the join line. Joining a room
// one already belongs to changes nothing.
func (s *Store) Join(ctx context.Context, room int64, user chat.User) error {
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		kind, err := roomKind(ctx, q, room)
		if err != nil {
			return nil, err
		}
		var member bool
		if err := q.QueryRowContext(ctx, `
			SELECT EXISTS (SELECT 1 FROM memberships WHERE user_id = ? AND room_id = ?)`, user.ID, room).Scan(&member); err != nil {
			return nil, fmt.Errorf("store: join: %w", err)
		}
		if member {
			return nil, nil
		}
		if kind != chat.KindRoom {
			return nil, errNoRoom // a conversation's outsiders do not learn it exists
		}
		m, err := addMember(ctx, q, room, user, now)
		if err != nil {
			return nil, err
		}
		return []chat.Message{m}, nil
	})
	return err
}

// Leave removes user from room and posts the leave line. Leaving a room one
// does not belong to changes nothing.
func (s *Store) Leave(ctx context.Context, room int64, user chat.User) error {
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		kind, err := roomKind(ctx, q, room)
		if err != nil {
			return nil, err
		}
		res, err := q.ExecContext(ctx, `DELETE FROM memberships WHERE user_id = ? AND room_id = ?`, user.ID, room)
		if err != nil {
			return nil, fmt.Errorf("store: leave: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if kind != chat.KindRoom {
				return nil, errNoRoom
			}
			return nil, nil
		}
		switch kind {
		case chat.KindDirect:
			return nil, chat.Errorf(chat.Invalid, "A direct conversation cannot be left: it is how the two of you reach each other.")
		case chat.KindGroup:
			if err := s.renameConversation(ctx, q, room); err != nil {
				return nil, err
			}
		default:
			if err := keepAnAdmin(ctx, q, room); err != nil {
				return nil, err
			}
		}
		m, err := membershipLine(ctx, q, room, user, chat.KindLeave, "", now)
		if err != nil {
			return nil, err
		}
		return []chat.Message{m}, nil
	})
	return err
}

// RemoveMember takes member out of room on behalf of by, if chat.CheckRemove
// allows it (checked in the same transaction). To anyone who cannot see
// the room it does not exist.
func (s *Store) RemoveMember(ctx context.Context, room int64, member chat.User, by chat.User) error {
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		r, byAdmin, err := roomFor(ctx, q, room, by)
		if err != nil {
			return nil, err
		}
		if !chat.CanManage(by, r, byAdmin) {
			return nil, chat.CheckRemove(by, byAdmin, member, false, r) // why not, before anything about member
		}
		in, admin, err := membership(ctx, q, room, member.ID)
		if err != nil {
			return nil, err
		}
		if !in {
			return nil, chat.Errorf(chat.NotFound, "%s is not a member of this room.", member.Name)
		}
		if err := chat.CheckRemove(by, byAdmin, member, admin, r); err != nil {
			return nil, err
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM memberships WHERE user_id = ? AND room_id = ?`, member.ID, room); err != nil {
			return nil, fmt.Errorf("store: remove member: %w", err)
		}
		if err := keepAnAdmin(ctx, q, room); err != nil {
			return nil, err
		}
		m, err := membershipLine(ctx, q, room, member, chat.KindRemoved, by.Name, now)
		if err != nil {
			return nil, err
		}
		return []chat.Message{m}, nil
	})
	return err
}

// Members lists a room's members, oldest first.
func (s *Store) Members(ctx context.Context, room int64) ([]chat.Member, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT u.id, u.username, u.is_admin, u.created_at, m.joined_at, m.room_admin
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.room_id = ? ORDER BY m.joined_at, u.id`, room)
	if err != nil {
		return nil, fmt.Errorf("store: members: %w", err)
	}
	defer rows.Close()
	var out []chat.Member
	for rows.Next() {
		var m chat.Member
		var created, joined int64
		if err := rows.Scan(&m.User.ID, &m.User.Name, &m.User.Admin, &created, &joined, &m.RoomAdmin); err != nil {
			return nil, fmt.Errorf("store: members: %w", err)
		}
		m.User.Created, m.Joined = fromMillis(created), fromMillis(joined)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: members: %w", err)
	}
	return out, nil
}

// Memberships calls fn for every (room, user) membership, for loading the
// hub's room index at start-up.
func (s *Store) Memberships(ctx context.Context, fn func(chat.Membership)) error {
	rows, err := s.rq.QueryContext(ctx, `SELECT room_id, user_id FROM memberships`)
	if err != nil {
		return fmt.Errorf("store: memberships: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m chat.Membership
		if err := rows.Scan(&m.RoomID, &m.UserID); err != nil {
			return fmt.Errorf("store: memberships: %w", err)
		}
		fn(m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: memberships: %w", err)
	}
	return nil
}

func addMember(ctx context.Context, q querier, room int64, user chat.User, now time.Time) (chat.Message, error) {
	if _, err := q.ExecContext(ctx, `
		INSERT INTO memberships (user_id, room_id, joined_at) VALUES (?, ?, ?)`, user.ID, room, millis(now)); err != nil {
		return chat.Message{}, fmt.Errorf("store: add member: %w", err)
	}
	return membershipLine(ctx, q, room, user, chat.KindJoin, "", now)
}

// membershipLine records a join, leave or removal line with the member
// count after the change, so the room's open pages can update theirs.
func membershipLine(ctx context.Context, q querier, room int64, user chat.User, kind chat.Kind, body string, now time.Time) (chat.Message, error) {
	m, err := insertMessage(ctx, q, room, user, kind, body, "", now)
	if err != nil {
		return m, err
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM memberships WHERE room_id = ?`, room).Scan(&m.Members); err != nil {
		return m, fmt.Errorf("store: count members: %w", err)
	}
	return m, nil
}

var errNoRoom = chat.Errorf(chat.NotFound, "No such room.")

func roomKind(ctx context.Context, q querier, room int64) (chat.RoomKind, error) {
	var kind chat.RoomKind
	err := q.QueryRowContext(ctx, `SELECT kind FROM rooms WHERE id = ?`, room).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errNoRoom
	}
	if err != nil {
		return 0, fmt.Errorf("store: room kind: %w", err)
	}
	return kind, nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Changes to messages: edits, deletes and reactions. Each takes a stream
// event id from the sequence message ids come from (nextEvent) and stores
// it as the message's `changed`, so replay finds it (Missed), and hands
// the message in its new version to OnCommit.

var errNoMessage = chat.Errorf(chat.NotFound, "No such message.")

// nextEvent takes the next stream event id for a change. Message ids come
// from the same sequence (AUTOINCREMENT's), so ids and changes interleave
// in commit order and no later message can take this one.
func nextEvent(ctx context.Context, q querier) (int64, error) {
	next := `UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'messages' RETURNING seq`
	if q.cache.eng != nil {
		next = q.cache.eng.NextEvent()
	}
	var id int64
	err := q.QueryRowContext(ctx, next).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: next event id: %w", err)
	}
	return id, nil
}

// messageByID reads one message as scanMessages does.
func messageByID(ctx context.Context, q querier, id int64) (chat.Message, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+messageColumns+` FROM `+messageSource+` WHERE m.id = ?`, id)
	if err != nil {
		return chat.Message{}, fmt.Errorf("store: message: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return chat.Message{}, fmt.Errorf("store: message: %w", err)
	}
	if len(msgs) == 0 {
		return chat.Message{}, errNoMessage
	}
	return msgs[0], nil
}

// target is a message someone acts on, with its room and whether they
// manage it.
type target struct {
	msg       chat.Message
	room      chat.Room
	roomAdmin bool
}

// memberTarget reads message id of room for by, who must be a member: a
// private room or conversation they are not in does not exist for them,
// and a public one refuses them.
func memberTarget(ctx context.Context, q querier, room, id int64, by chat.User) (target, error) {
	// Membership first: for a member, one indexed row; only a stranger's
	// request reads the room, to tell "no such room" from "join first".
	in, admin, err := membership(ctx, q, room, by.ID)
	if err != nil {
		return target{}, err
	}
	if !in {
		if _, _, err := roomFor(ctx, q, room, by); err != nil {
			return target{}, err
		}
		return target{}, chat.Errorf(chat.Forbidden, "Join the room first.")
	}
	kind, err := roomKind(ctx, q, room)
	if err != nil {
		return target{}, err
	}
	m, err := messageByID(ctx, q, id)
	if err == nil && m.RoomID != room {
		err = errNoMessage
	}
	return target{msg: m, room: chat.Room{ID: room, Kind: kind}, roomAdmin: admin}, err
}

// Message returns message id of room as by may see it: by must be a
// member. With it come whether by manages the room and, for those who do,
// the texts earlier edits replaced.
func (s *Store) Message(ctx context.Context, room, id int64, by chat.User) (chat.Message, bool, []chat.Edit, error) {
	t, err := memberTarget(ctx, s.rq, room, id, by)
	if err != nil {
		return chat.Message{}, false, nil, err
	}
	manager := chat.CanManage(by, t.room, t.roomAdmin)
	if !manager {
		return t.msg, false, nil, nil
	}
	edits, err := editsOf(ctx, s.rq, id)
	return t.msg, true, edits, err
}

func editsOf(ctx context.Context, q querier, id int64) ([]chat.Edit, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT u.username, e.old_body, e.edited_at
		FROM message_edits e JOIN users u ON u.id = e.editor_id
		WHERE e.message_id = ? ORDER BY e.id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: edits: %w", err)
	}
	defer rows.Close()
	var out []chat.Edit
	for rows.Next() {
		var e chat.Edit
		var at int64
		if err := rows.Scan(&e.Editor, &e.OldBody, &at); err != nil {
			return nil, fmt.Errorf("store: edits: %w", err)
		}
		e.At = fromMillis(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// EditMessage replaces the text of message id in room with body (already
// cleaned, chat.CleanMessage), keeping the old text in message_edits and
// its mentions up to date. Only its author edits it (chat.CheckEdit). The
// same text again changes nothing.
func (s *Store) EditMessage(ctx context.Context, room, id int64, by chat.User, body string) (chat.Message, error) {
	var out chat.Message
	_, err := s.writeText(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		t, err := memberTarget(ctx, q, room, id, by)
		if err != nil {
			return nil, err
		}
		if err := chat.CheckEdit(by, t.msg); err != nil {
			return nil, err
		}
		if t.msg.Body == body {
			out = t.msg
			return nil, nil
		}
		m := t.msg
		m.Body, m.Mentions, m.MentionsRoom = body, nil, false
		if names := chat.MentionNames(body); len(names) > 0 {
			if m.Mentions, m.MentionsRoom, err = resolveMentions(ctx, q, room, by, names); err != nil {
				return nil, err
			}
		}
		if _, err := q.ExecContext(ctx, `
			INSERT INTO message_edits (message_id, editor_id, old_body, edited_at) VALUES (?, ?, ?, ?)`,
			id, by.ID, t.msg.Body, millis(now)); err != nil {
			return nil, fmt.Errorf("store: edit: %w", err)
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM mentions WHERE message_id = ?`, id); err != nil {
			return nil, fmt.Errorf("store: edit: %w", err)
		}
		if err := storeMentions(ctx, q, m); err != nil {
			return nil, err
		}
		if out, err = changeMessage(ctx, q, id, `body = ?, mentions = NULLIF(?, ''), edited_at = ?`, body, encodeMentions(m), millis(now)); err != nil {
			return nil, err
		}
		return []chat.Message{out}, nil
	})
	return out, err
}

// DeleteMessage deletes message id of room: its text goes (so do its
// reactions and mentions), a placeholder stays in its place. Its author
// may, and so may the room's managers (chat.CheckDelete).
func (s *Store) DeleteMessage(ctx context.Context, room, id int64, by chat.User) (chat.Message, error) {
	var out chat.Message
	_, err := s.writeText(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		t, err := memberTarget(ctx, q, room, id, by)
		if err != nil {
			return nil, err
		}
		if err := chat.CheckDelete(by, t.msg, t.room, t.roomAdmin); err != nil {
			return nil, err
		}
		for _, stmt := range []string{`DELETE FROM reactions WHERE message_id = ?`, `DELETE FROM mentions WHERE message_id = ?`} {
			if _, err := q.ExecContext(ctx, stmt, id); err != nil {
				return nil, fmt.Errorf("store: delete: %w", err)
			}
		}
		out, err = changeMessage(ctx, q, id, `body = '', mentions = NULL, deleted_at = ?, deleted_by = ?`, millis(now), by.ID)
		if err != nil {
			return nil, err
		}
		return []chat.Message{out}, nil
	})
	return out, err
}

// React turns by's reaction emoji on message id of room on or off (a
// toggle: on if they had not reacted with it) and reports which.
func (s *Store) React(ctx context.Context, room, id int64, by chat.User, emoji string) (chat.Message, bool, error) {
	if err := chat.CheckReaction(emoji); err != nil {
		return chat.Message{}, false, err
	}
	var out chat.Message
	var on bool
	_, err := s.write(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		t, err := memberTarget(ctx, q, room, id, by)
		if err != nil {
			return nil, err
		}
		if t.msg.Deleted || !t.msg.Kind.Text() {
			return nil, chat.Errorf(chat.Invalid, "You cannot react to this.")
		}
		res, err := q.ExecContext(ctx, `DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?`, id, emoji, by.ID)
		if err != nil {
			return nil, fmt.Errorf("store: react: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			on = true
			if _, err := q.ExecContext(ctx, `
				INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?, ?, ?, ?)`,
				id, emoji, by.ID, millis(now)); err != nil {
				return nil, fmt.Errorf("store: react: %w", err)
			}
		}
		if out, err = changeMessage(ctx, q, id, ``); err != nil {
			return nil, err
		}
		out.OnlyReactions = true
		return []chat.Message{out}, nil
	})
	return out, on, err
}

// changeMessage gives message id a new event id, sets what set says (an
// UPDATE's assignments, with args; may be empty) and reads it back.
func changeMessage(ctx context.Context, q querier, id int64, set string, args ...any) (chat.Message, error) {
	ev, err := nextEvent(ctx, q)
	if err != nil {
		return chat.Message{}, err
	}
	if set != "" {
		set += ", "
	}
	if _, err := q.ExecContext(ctx, `UPDATE messages SET `+set+`changed = ? WHERE id = ?`, append(args, ev, id)...); err != nil {
		return chat.Message{}, fmt.Errorf("store: change message: %w", err)
	}
	return messageByID(ctx, q, id)
}

// replyTarget checks that a reply to id may be posted in room: the
// original is a text message there, not deleted.
func replyTarget(ctx context.Context, q querier, room, id int64) (*chat.Quote, error) {
	m, err := messageByID(ctx, q, id)
	if errors.Is(err, errNoMessage) || (err == nil && (m.RoomID != room || !m.Kind.Text() || m.Deleted)) {
		return nil, chat.FieldErrorf("reply_to", chat.Invalid, "The message you replied to is gone.")
	}
	if err != nil {
		return nil, err
	}
	quote := chat.QuoteOf(m)
	return &quote, nil
}

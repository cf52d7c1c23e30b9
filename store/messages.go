package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// messageColumns, read FROM messageSource, are what scanMessages reads. An
// embedded user's messages carry their display name and their site; a
// local user's, their username and their display name as it is now. A
// reply carries the start of what it answers; a changed message (only
// those: reactions make a message changed) its reactions, one
// "emoji US id US name" per reaction, RS between them.
const (
	messageColumns = `m.id, m.room_id, m.author_id, ` + authorName + `,
		COALESCE(es.origin, ''), m.kind, m.body, m.created_at, COALESCE(m.mentions, ''),
		CASE WHEN u.site_id IS NULL THEN u.display_name ELSE '' END,
		m.changed, COALESCE(m.edited_at, 0), m.deleted_at IS NOT NULL,
		COALESCE(m.reply_to, 0), COALESCE(CASE WHEN ru.site_id IS NULL THEN COALESCE(NULLIF(ru.display_name, ''), ru.username) ELSE ru.display_name END, ''),
		COALESCE(substr(rm.body, 1, 400), ''), COALESCE(rm.deleted_at IS NOT NULL, FALSE),
		CASE WHEN m.changed > 0 THEN (
			SELECT group_concat(r.emoji || char(31) || r.user_id || char(31) || ra.username, char(30) ORDER BY r.created_at, r.user_id)
			FROM reactions r JOIN users ra ON ra.id = r.user_id WHERE r.message_id = m.id) END`
	messageSource = `messages m JOIN users u ON u.id = m.author_id LEFT JOIN embed_sites es ON es.id = u.site_id
		LEFT JOIN messages rm ON rm.id = m.reply_to LEFT JOIN users ru ON ru.id = rm.author_id`
	authorName = `CASE WHEN u.site_id IS NULL THEN u.username ELSE u.display_name END`
)

// PostMessage stores body from author in room. The membership check runs in
// the same statement as the insert, so a post racing a leave cannot land.
// A non-empty clientID makes the post idempotent: if author already posted
// with it, the stored message is returned and nothing new is written.
// The members that body mentions (chat.ParseMentions) are stored with it,
// in the same transaction.
func (s *Store) PostMessage(ctx context.Context, room int64, author chat.User, body, clientID string) (chat.Message, error) {
	return s.PostReply(ctx, room, author, body, clientID, 0)
}

// PostReply is PostMessage for a reply to message replyTo (0: none), which
// must be a text message of the same room, not deleted.
func (s *Store) PostReply(ctx context.Context, room int64, author chat.User, body, clientID string, replyTo int64) (chat.Message, error) {
	var posted chat.Message
	names := chat.MentionNames(body)
	post := func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		m := newMessage(room, author, chat.KindText, body, now)
		var err error
		if len(names) > 0 {
			if m.Mentions, m.MentionsRoom, err = resolveMentions(ctx, q, room, author, names); err != nil {
				return nil, err
			}
		}
		if replyTo != 0 {
			// Members only: nobody else may learn what the room holds. A
			// non-member's insert is refused below, and says why.
			if in, _, err := membership(ctx, q, room, author.ID); err != nil {
				return nil, err
			} else if in {
				if m.ReplyTo, err = replyTarget(ctx, q, room, replyTo); err != nil {
					return nil, err
				}
			}
		}
		// Membership, idempotency and the insert in one statement: the
		// common case costs a single step of the writer.
		var inserted bool
		m.ID, inserted, err = q.insertedID(ctx, `
			INSERT INTO messages (room_id, author_id, kind, body, created_at, client_id, mentions, reply_to)
			SELECT ?, ?, ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, 0)
			WHERE EXISTS (SELECT 1 FROM memberships WHERE user_id = ? AND room_id = ?)
			ON CONFLICT (author_id, client_id) WHERE client_id IS NOT NULL DO NOTHING`,
			room, author.ID, chat.KindText, body, millis(now), clientID, encodeMentions(m), replyTo, author.ID, room)
		switch {
		case err != nil:
			return nil, fmt.Errorf("store: post: %w", err)
		case inserted:
			if err := storeMentions(ctx, q, m); err != nil {
				return nil, err
			}
			posted = m
			return []chat.Message{m}, nil
		}
		prior, err := refusedPost(ctx, q, room, author.ID, clientID)
		posted = prior
		return nil, err // a prior message was published when first stored
	}
	var err error
	if len(names) == 0 && replyTo == 0 {
		_, err = s.writeOne(ctx, post)
	} else {
		_, err = s.write(ctx, post) // several statements: under a savepoint
	}
	return posted, err
}

// refusedPost explains why a post inserted nothing: its client id was used
// before (then it returns that message, or a conflict if it was in another
// room), the room is gone, or the author is not a member.
func refusedPost(ctx context.Context, q querier, room, author int64, clientID string) (chat.Message, error) {
	if clientID != "" {
		prior, found, err := messageByClientID(ctx, q, author, clientID)
		if err != nil {
			return chat.Message{}, err
		}
		if found && prior.RoomID == room {
			// Only for a member: one who left or was removed since learns
			// nothing new of the room (its reactions, its readers) this way.
			in, _, err := membership(ctx, q, room, author)
			if err != nil {
				return chat.Message{}, err
			}
			if in {
				return prior, nil
			}
		} else if found {
			return chat.Message{}, chat.FieldErrorf("client_id", chat.Conflict, "This message id was already used in another room.")
		}
	}
	kind, err := roomKind(ctx, q, room)
	if err != nil {
		return chat.Message{}, err
	}
	if kind != chat.KindRoom {
		return chat.Message{}, errNoRoom // outsiders do not learn a conversation exists
	}
	return chat.Message{}, chat.Errorf(chat.Forbidden, "You are not a member of this room.")
}

func messageByClientID(ctx context.Context, q querier, author int64, clientID string) (chat.Message, bool, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT `+messageColumns+`
		FROM `+messageSource+`
		WHERE m.author_id = ? AND m.client_id = ?`, author, clientID)
	if err != nil {
		return chat.Message{}, false, fmt.Errorf("store: find by client id: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil || len(msgs) == 0 {
		return chat.Message{}, false, err
	}
	return msgs[0], true, nil
}

// History returns up to limit messages of room older than before (all the
// newest when before is 0), oldest first, and whether older ones exist.
func (s *Store) History(ctx context.Context, room, before int64, limit int) ([]chat.Message, bool, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.rq.QueryContext(ctx, `
		SELECT `+messageColumns+`
		FROM `+messageSource+`
		WHERE m.room_id = ? AND m.id < ?
		ORDER BY m.id DESC LIMIT ?`, room, before, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("store: history: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, false, fmt.Errorf("store: history: %w", err)
	}
	more := len(msgs) > limit
	if more {
		msgs = msgs[:limit]
	}
	slices.Reverse(msgs)
	return msgs, more, nil
}

// Missed returns, in event order (chat.Message.EventID), up to limit
// messages posted or changed after the event id after, from the rooms user
// belongs to now: what a reconnecting stream must replay, each message in
// its current version. Copies of user's own announcements are left out, as
// they are live: one announcement to thousands would otherwise flood its
// sender's stream.
func (s *Store) Missed(ctx context.Context, user, after int64, limit int) ([]chat.Message, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT * FROM (
			SELECT `+messageColumns+`
			FROM `+messageSource+`
			WHERE m.id > ?1 AND m.room_id IN (SELECT room_id FROM memberships WHERE user_id = ?2)
			  AND NOT (m.kind = ?4 AND m.author_id = ?2)
			UNION ALL
			SELECT `+messageColumns+`
			FROM `+messageSource+`
			WHERE m.changed > ?1 AND m.changed > 0 AND m.id <= ?1
			  AND m.room_id IN (SELECT room_id FROM memberships WHERE user_id = ?2)
			  AND NOT (m.kind = ?4 AND m.author_id = ?2)) AS missed
		ORDER BY CASE WHEN changed > id THEN changed ELSE id END LIMIT ?3`, after, user, limit, chat.KindAnnouncement)
	if err != nil {
		return nil, fmt.Errorf("store: missed: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("store: missed: %w", err)
	}
	return msgs, nil
}

// latestEvent is the statement reading the newest stream event id given
// out: a message's or a change's (they share the sequence of message ids).
func (s *Store) latestEvent() string {
	if s.eng != nil {
		return s.eng.LatestEvent()
	}
	return latestSQLiteEvent
}

const latestSQLiteEvent = `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0)`

// LatestID returns the newest stream event id (0 when there are none). A
// page rendered after reading it resumes its stream from there.
func (s *Store) LatestID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.rq.QueryRowContext(ctx, s.latestEvent()).Scan(&id); err != nil {
		return 0, fmt.Errorf("store: latest id: %w", err)
	}
	return id, nil
}

// insertMessage adds a message; clientID "" stores NULL (no idempotency).
func insertMessage(ctx context.Context, q querier, room int64, author chat.User, kind chat.Kind, body, clientID string, now time.Time) (chat.Message, error) {
	m := newMessage(room, author, kind, body, now)
	id, inserted, err := q.insertedID(ctx, `
		INSERT INTO messages (room_id, author_id, kind, body, created_at, client_id) VALUES (?, ?, ?, ?, ?, NULLIF(?, ''))`,
		room, author.ID, kind, body, millis(now), clientID)
	if err == nil && !inserted {
		err = errors.New("nothing inserted")
	}
	if err != nil {
		return m, fmt.Errorf("store: insert message: %w", err)
	}
	m.ID = id
	return m, nil
}

// newMessage is a message about to be stored. The author's display name
// is the one their (cached) user record has now: a live message shows the
// name at the time it was sent, without a look-up per post.
func newMessage(room int64, author chat.User, kind chat.Kind, body string, now time.Time) chat.Message {
	return chat.Message{RoomID: room, AuthorID: author.ID, Author: author.Name, AuthorDisplay: author.Display,
		AuthorSite: author.Site, Kind: kind, Body: body, Sent: fromMillis(millis(now))}
}

func scanMessages(rows *sql.Rows) ([]chat.Message, error) {
	defer rows.Close()
	var msgs []chat.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, rows.Err()
}

// scanMessage reads one row of messageColumns, then extra columns after
// them into extra.
func scanMessage(rows *sql.Rows, extra ...any) (chat.Message, error) {
	var m chat.Message
	var sent, edited int64
	var origin, mentions string
	var q chat.Quote
	var reactions sql.NullString
	dest := []any{&m.ID, &m.RoomID, &m.AuthorID, &m.Author, &origin, &m.Kind, &m.Body, &sent, &mentions, &m.AuthorDisplay,
		&m.Changed, &edited, &m.Deleted, &q.ID, &q.Author, &q.Snippet, &q.Deleted, &reactions}
	if err := rows.Scan(append(dest, extra...)...); err != nil {
		return m, err
	}
	m.Sent = fromMillis(sent)
	if edited > 0 {
		m.Edited = fromMillis(edited)
	}
	m.Mentions, m.MentionsRoom = decodeMentions(mentions)
	m.AuthorSite = chat.SiteLabel(origin)
	if q.ID != 0 {
		q.Snippet = chat.Snippet(q.Snippet, chat.QuoteRunes)
		m.ReplyTo = &q
	}
	m.Reactions = decodeReactions(reactions.String)
	return m, nil
}

// decodeReactions reads messageColumns' reactions, in chat.Reactions order.
func decodeReactions(s string) []chat.Reaction {
	if s == "" {
		return nil
	}
	by := make(map[string][]chat.Reactor)
	for _, one := range strings.Split(s, "\x1e") {
		f := strings.SplitN(one, "\x1f", 3)
		if len(f) != 3 {
			continue
		}
		id, _ := strconv.ParseInt(f[1], 10, 64)
		by[f[0]] = append(by[f[0]], chat.Reactor{ID: id, Name: f[2]})
	}
	var out []chat.Reaction
	for _, e := range chat.Reactions {
		if users := by[e]; len(users) > 0 {
			out = append(out, chat.Reaction{Emoji: e, Users: users})
		}
	}
	return out
}

func sortByID(msgs []chat.Message) {
	slices.SortFunc(msgs, func(a, b chat.Message) int { return cmp.Compare(a.ID, b.ID) })
}

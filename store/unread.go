package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// What counts as unread: text (a post or an announcement copy) after the
// reader's mark that they did not write. Join and leave lines never count.
// Each count stops at chat.MaxCounted, so a room never read costs a short
// walk of the messages_by_room index (room_id, id) from the mark, not a
// scan of its whole history; mentions walk their own primary key.
var (
	countedKinds = strconv.Itoa(int(chat.KindText)) + ", " + strconv.Itoa(int(chat.KindAnnouncement))
	maxCounted   = strconv.Itoa(chat.MaxCounted)

	unreadCounts = `
		(SELECT COUNT(*) FROM (SELECT 1 FROM messages um
			WHERE um.room_id = rm.room_id AND um.id > rm.mark AND um.kind IN (` + countedKinds + `) AND um.author_id != rm.user_id
			LIMIT ` + maxCounted + `) AS unread),
		(SELECT COUNT(*) FROM (SELECT 1 FROM mentions mn
			WHERE mn.user_id = rm.user_id AND mn.room_id = rm.room_id AND mn.message_id > rm.mark
			LIMIT ` + maxCounted + `) AS mentioned),
		(SELECT COALESCE(MAX(lm.id), 0) FROM messages lm WHERE lm.room_id = rm.room_id)`

	// roomMarks is each room user (?1) belongs to, with their mark.
	roomMarks = `
		SELECT ms.user_id, ms.room_id, COALESCE(r.last_read, 0) AS mark
		FROM memberships ms LEFT JOIN read_marks r ON r.user_id = ms.user_id AND r.room_id = ms.room_id
		WHERE ms.user_id = ?1`
)

// countUnread fills Unread, Mentions and LastID of the rooms user belongs
// to. One statement reads all three, so LastID says exactly which messages
// the counts took in.
func (s *Store) countUnread(ctx context.Context, user int64, rooms []chat.Room) error {
	if len(rooms) == 0 {
		return nil
	}
	at := make(map[int64]int, len(rooms))
	for i, r := range rooms {
		at[r.ID] = i
	}
	rows, err := s.rq.QueryContext(ctx, `SELECT rm.room_id, `+unreadCounts+` FROM (`+roomMarks+`) rm`, user)
	if err != nil {
		return fmt.Errorf("store: count unread: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, last int64
		var unread, mentions int
		if err := rows.Scan(&id, &unread, &mentions, &last); err != nil {
			return fmt.Errorf("store: count unread: %w", err)
		}
		if i, ok := at[id]; ok {
			rooms[i].Unread, rooms[i].Mentions, rooms[i].LastID = unread, mentions, last
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: count unread: %w", err)
	}
	return nil
}

// MarkRead records that user opened room: everything in it is read (see
// MarkReadUpTo).
func (s *Store) MarkRead(ctx context.Context, user, room int64) error {
	_, err := s.MarkReadUpTo(ctx, user, room, 1<<63-1)
	return err
}

// MarkReadUpTo records that user has seen room up to message upTo (capped
// at the room's newest message), and the announcement copies up to there
// as read. The mark never moves back, however many tabs mark at once. It
// returns the mark as it was before, which is where a "New messages" line
// goes. A change reaches the user's streams through Options.OnReads.
// Marking a room one does not belong to is a NotFound error.
func (s *Store) MarkReadUpTo(ctx context.Context, user, room, upTo int64) (previous int64, err error) {
	var waiting bool
	if err := s.rq.QueryRowContext(ctx, `
		SELECT COALESCE((SELECT last_read FROM read_marks WHERE user_id = ?1 AND room_id = ?2), 0),
		       EXISTS (SELECT 1 FROM announcement_recipients WHERE user_id = ?1 AND room_id = ?2 AND read_at IS NULL AND message_id <= ?3)`,
		user, room, upTo).Scan(&previous, &waiting); err != nil {
		return 0, fmt.Errorf("store: mark read: %w", err)
	}
	if previous >= upTo && !waiting {
		return previous, nil // the common case costs a read, not a write
	}
	return previous, s.writeMark(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Receipt, chat.ReadState, error) {
		st := chat.ReadState{UserID: user, RoomID: room}
		err := q.QueryRowContext(ctx, `
			INSERT INTO read_marks (user_id, room_id, last_read)
			SELECT CAST(?1 AS BIGINT), CAST(?2 AS BIGINT), CASE WHEN newest < ?3 THEN newest ELSE ?3 END
			FROM (SELECT COALESCE(MAX(id), 0) AS newest FROM messages WHERE room_id = ?2) AS room
			WHERE EXISTS (SELECT 1 FROM memberships WHERE user_id = ?1 AND room_id = ?2)
			ON CONFLICT (user_id, room_id) DO UPDATE SET last_read = CASE WHEN excluded.last_read > read_marks.last_read THEN excluded.last_read ELSE read_marks.last_read END
			RETURNING last_read`, user, room, upTo).Scan(&st.LastRead)
		if err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil, st, errNoRoom
			}
			return nil, st, fmt.Errorf("store: mark read: %w", err)
		}
		receipts, err := readAnnouncements(ctx, q, user, room, st.LastRead, now)
		if err != nil {
			return nil, st, err
		}
		err = q.QueryRowContext(ctx, `SELECT `+unreadCounts+` FROM (SELECT CAST(?1 AS BIGINT) AS user_id, CAST(?2 AS BIGINT) AS room_id, CAST(?3 AS BIGINT) AS mark) rm`,
			user, room, st.LastRead).Scan(&st.Unread, &st.Mentions, &st.LastID)
		if err != nil {
			return nil, st, fmt.Errorf("store: mark read: count: %w", err)
		}
		return receipts, st, nil
	})
}

// readAnnouncements marks user's announcement copies in room up to mark as
// read (and so delivered), returning the receipts that changed.
func readAnnouncements(ctx context.Context, q querier, user, room, mark int64, now time.Time) ([]chat.Receipt, error) {
	changed, err := collectChanged(q.QueryContext(ctx, `
		UPDATE announcement_recipients SET read_at = ?1, delivered_at = COALESCE(delivered_at, ?1)
		WHERE user_id = ?2 AND room_id = ?3 AND read_at IS NULL AND message_id <= ?4
		RETURNING announcement_id, user_id, delivered_at, read_at`, millis(now), user, room, mark))
	if err != nil {
		return nil, fmt.Errorf("store: mark read: %w", err)
	}
	return receiptsFor(ctx, q, changed)
}

// writeMark is write for work that moves a read mark: its receipts go to
// OnReceipts and its read state to OnReads, after the batch's messages.
func (s *Store) writeMark(ctx context.Context, run func(ctx context.Context, q querier, now time.Time) ([]chat.Receipt, chat.ReadState, error)) error {
	o := &op{done: make(chan struct{})}
	o.run = func(ctx context.Context, q querier, now time.Time) ([]chat.Message, error) {
		rs, st, err := run(ctx, q, now)
		if err == nil {
			o.receipts, o.reads = rs, []chat.ReadState{st}
		}
		return nil, err
	}
	_, err := s.submit(ctx, o)
	return err
}

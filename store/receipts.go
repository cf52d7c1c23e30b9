package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// MarkDelivered records that the announcement copies among messages reached
// their recipient (an open stream took them, or a replay sent them). Other
// ids are ignored; so are copies already delivered.
func (s *Store) MarkDelivered(ctx context.Context, messages []int64) error {
	if len(messages) == 0 {
		return nil
	}
	return s.writeReceipts(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Receipt, error) {
		var changed []changedRecipient
		for _, id := range messages {
			c, err := collectChanged(q.QueryContext(ctx, `
				UPDATE announcement_recipients SET delivered_at = ?
				WHERE message_id = ? AND delivered_at IS NULL
				RETURNING announcement_id, user_id, delivered_at, read_at`, millis(now), id))
			if err != nil {
				return nil, fmt.Errorf("store: mark delivered: %w", err)
			}
			changed = append(changed, c...)
		}
		return receiptsFor(ctx, q, changed)
	})
}

// MarkDeliveredTo records that a page user loaded showed them every copy
// waiting for them (their conversations list it).
func (s *Store) MarkDeliveredTo(ctx context.Context, user int64) error {
	var waiting bool
	if err := s.rq.QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM announcement_recipients WHERE user_id = ? AND delivered_at IS NULL)`,
		user).Scan(&waiting); err != nil {
		return fmt.Errorf("store: mark delivered: %w", err)
	}
	if !waiting {
		return nil
	}
	return s.writeReceipts(ctx, func(ctx context.Context, q querier, now time.Time) ([]chat.Receipt, error) {
		changed, err := collectChanged(q.QueryContext(ctx, `
			UPDATE announcement_recipients SET delivered_at = ?
			WHERE user_id = ? AND delivered_at IS NULL
			RETURNING announcement_id, user_id, delivered_at, read_at`, millis(now), user))
		if err != nil {
			return nil, fmt.Errorf("store: mark delivered: %w", err)
		}
		return receiptsFor(ctx, q, changed)
	})
}

type changedRecipient struct {
	announcement int64
	chat.Recipient
}

func collectChanged(rows *sql.Rows, err error) ([]changedRecipient, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []changedRecipient
	for rows.Next() {
		var c changedRecipient
		var delivered, read sql.NullInt64
		if err := rows.Scan(&c.announcement, &c.User.ID, &delivered, &read); err != nil {
			return nil, err
		}
		c.Delivered, c.Read = optionalTime(delivered), optionalTime(read)
		out = append(out, c)
	}
	return out, rows.Err()
}

// receiptsFor counts the announcements that changed, with their changes.
func receiptsFor(ctx context.Context, q querier, changed []changedRecipient) ([]chat.Receipt, error) {
	var out []chat.Receipt
	at := map[int64]int{}
	for _, c := range changed {
		i, seen := at[c.announcement]
		if !seen {
			r, err := countReceipt(ctx, q, c.announcement)
			if err != nil {
				return nil, err
			}
			i = len(out)
			at[c.announcement] = i
			out = append(out, r)
		}
		if len(out[i].Changed) < chat.MaxChangedRecipients {
			out[i].Changed = append(out[i].Changed, c.Recipient)
		}
	}
	return out, nil
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func countReceipt(ctx context.Context, q queryRower, announcement int64) (chat.Receipt, error) {
	r := chat.Receipt{AnnouncementID: announcement}
	err := q.QueryRowContext(ctx, `
		SELECT a.sender_id, COUNT(*), COUNT(r.delivered_at), COUNT(r.read_at)
		FROM announcements a JOIN announcement_recipients r ON r.announcement_id = a.id
		WHERE a.id = ? GROUP BY a.sender_id`, announcement).Scan(&r.SenderID, &r.Recipients, &r.Delivered, &r.Read)
	if err != nil {
		return r, fmt.Errorf("store: count receipts: %w", err)
	}
	return r, nil
}

// Announcement returns one announcement with its counts, to its sender only.
func (s *Store) Announcement(ctx context.Context, id int64, viewer chat.User) (chat.Announcement, error) {
	var a chat.Announcement
	var sent int64
	err := s.rq.QueryRowContext(ctx, `
		SELECT a.id, a.body, a.created_at, u.id, u.username, u.is_admin
		FROM announcements a JOIN users u ON u.id = a.sender_id WHERE a.id = ?`, id).
		Scan(&a.ID, &a.Body, &sent, &a.Sender.ID, &a.Sender.Name, &a.Sender.Admin)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && a.Sender.ID != viewer.ID) {
		return a, chat.Errorf(chat.NotFound, "No such announcement.")
	}
	if err != nil {
		return a, fmt.Errorf("store: announcement: %w", err)
	}
	a.Sent = fromMillis(sent)
	a.Receipt, err = countReceipt(ctx, s.rq, id)
	return a, err
}

// Announcements lists sender's newest announcements with their counts.
func (s *Store) Announcements(ctx context.Context, sender chat.User, limit int) ([]chat.Announcement, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT a.id, a.body, a.created_at, COUNT(*), COUNT(r.delivered_at), COUNT(r.read_at)
		FROM announcements a JOIN announcement_recipients r ON r.announcement_id = a.id
		WHERE a.sender_id = ? GROUP BY a.id ORDER BY a.id DESC LIMIT ?`, sender.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: announcements: %w", err)
	}
	defer rows.Close()
	var out []chat.Announcement
	for rows.Next() {
		a := chat.Announcement{Sender: sender}
		var sent int64
		if err := rows.Scan(&a.ID, &a.Body, &sent, &a.Recipients, &a.Delivered, &a.Read); err != nil {
			return nil, fmt.Errorf("store: announcements: %w", err)
		}
		a.Sent, a.AnnouncementID, a.SenderID = fromMillis(sent), a.ID, sender.ID
		out = append(out, a)
	}
	return out, rows.Err()
}

// Recipients lists an announcement's recipients by username, limit from
// offset: read ones last, so who still waits shows first.
func (s *Store) Recipients(ctx context.Context, announcement int64, offset, limit int) ([]chat.Recipient, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT u.id, u.username, r.room_id, r.message_id, r.delivered_at, r.read_at
		FROM announcement_recipients r JOIN users u ON u.id = r.user_id
		WHERE r.announcement_id = ?
		ORDER BY r.read_at IS NOT NULL, r.delivered_at IS NOT NULL, u.username COLLATE NOCASE
		LIMIT ? OFFSET ?`, announcement, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("store: recipients: %w", err)
	}
	defer rows.Close()
	var out []chat.Recipient
	for rows.Next() {
		var r chat.Recipient
		var delivered, read sql.NullInt64
		if err := rows.Scan(&r.User.ID, &r.User.Name, &r.RoomID, &r.MessageID, &delivered, &read); err != nil {
			return nil, fmt.Errorf("store: recipients: %w", err)
		}
		r.Delivered, r.Read = optionalTime(delivered), optionalTime(read)
		out = append(out, r)
	}
	return out, rows.Err()
}

func optionalTime(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return fromMillis(ms.Int64)
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Around returns the messages of room around message id, oldest first:
// id itself with up to n before and n after it, and whether older and
// newer ones exist beyond them. A message of another room is not found.
func (s *Store) Around(ctx context.Context, room, id int64, n int) (msgs []chat.Message, older, newer bool, err error) {
	var in int64
	err = s.rq.QueryRowContext(ctx, `SELECT room_id FROM messages WHERE id = ?`, id).Scan(&in)
	if errors.Is(err, sql.ErrNoRows) || err == nil && in != room {
		return nil, false, false, errNoMessage
	}
	if err != nil {
		return nil, false, false, fmt.Errorf("store: around: %w", err)
	}
	if msgs, older, err = s.History(ctx, room, id+1, n+1); err != nil {
		return nil, false, false, err
	}
	rows, err := s.rq.QueryContext(ctx, `
		SELECT `+messageColumns+`
		FROM `+messageSource+`
		WHERE m.room_id = ? AND m.id > ?
		ORDER BY m.id LIMIT ?`, room, id, n+1)
	if err != nil {
		return nil, false, false, fmt.Errorf("store: around: %w", err)
	}
	after, err := scanMessages(rows)
	if err != nil {
		return nil, false, false, fmt.Errorf("store: around: %w", err)
	}
	newer = len(after) > n
	return slices.Concat(msgs, after[:min(n, len(after))]), older, newer, nil
}

package store

import (
	"context"
	"fmt"

	"github.com/rtmessenger/rtmessenger/chat"
)

// DirectPeers maps each direct conversation of user to the other person
// in it, whose presence the sidebar shows beside the conversation.
func (s *Store) DirectPeers(ctx context.Context, user int64) (map[int64]int64, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT o.room_id, o.user_id
		FROM memberships m
		JOIN rooms r ON r.id = m.room_id AND r.kind = ?2
		JOIN memberships o ON o.room_id = m.room_id AND o.user_id != m.user_id
		WHERE m.user_id = ?1`, user, chat.KindDirect)
	if err != nil {
		return nil, fmt.Errorf("store: direct peers: %w", err)
	}
	defer rows.Close()
	peers := make(map[int64]int64)
	for rows.Next() {
		var room, peer int64
		if err := rows.Scan(&room, &peer); err != nil {
			return nil, fmt.Errorf("store: direct peers: %w", err)
		}
		peers[room] = peer
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: direct peers: %w", err)
	}
	return peers, nil
}

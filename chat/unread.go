package chat

// ReadState is where a person stands in a room once they marked it read:
// their read mark and what is still unread after it, counted as
// Room.Unread and Room.Mentions are, as of the room's message LastID.
type ReadState struct {
	UserID, RoomID   int64
	LastRead         int64
	Unread, Mentions int
	LastID           int64
}

package chat

import "time"

// MaxAnnouncementTargets caps the individual people and rooms one
// announcement names (everyone counts as one); the recipients they resolve
// to are not capped.
const MaxAnnouncementTargets = 500

// Announcement is one message sent to many people at once. Each recipient
// gets a copy in their direct conversation with the sender.
type Announcement struct {
	ID     int64
	Sender User
	Body   string
	Sent   time.Time
	Receipt
}

// Receipt counts an announcement's recipients by how far it got with them.
type Receipt struct {
	AnnouncementID int64
	SenderID       int64
	Recipients     int
	Delivered      int // reached an open stream or a loaded page
	Read           int // the recipient opened the conversation
	// Changed holds, on a receipt fresh from a commit, the recipients whose
	// status that commit changed (at most MaxChangedRecipients; User.ID only).
	Changed []Recipient
}

// MaxChangedRecipients bounds Receipt.Changed: a status page updates that
// many rows live and counts the rest.
const MaxChangedRecipients = 100

// Recipient is one person's copy of an announcement and its status.
type Recipient struct {
	User      User
	RoomID    int64
	MessageID int64
	Delivered time.Time // zero until delivered
	Read      time.Time // zero until read
}

// AnnouncementTargets is whom a sender asks to reach: the server resolves
// them to people.
type AnnouncementTargets struct {
	Usernames []string
	Rooms     []int64
	Everyone  bool
}

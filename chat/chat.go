// Package chat holds RT Messenger's domain types, limits and validation rules.
// It depends on the standard library only, so every other package can share it.
package chat

import "time"

// Limits that users can hit. They are part of the product: pages and error
// messages quote them.
const (
	MaxMessageRunes  = 4000
	MinUsernameRunes = 3
	MaxUsernameRunes = 32
	MinPasswordRunes = 8
	MaxPasswordBytes = 256
	MaxRoomNameRunes = 64
	MaxTopicRunes    = 200
	// MaxConversationPeople is how many people one can pick for a group
	// conversation, besides oneself.
	MaxConversationPeople = 50
	// PageSize is how many messages a room shows at once and pages by.
	PageSize = 50
)

// User is an account.
type User struct {
	ID      int64
	Name    string
	Admin   bool
	Created time.Time
	// Deactivated accounts cannot sign in; their sessions end.
	Deactivated bool
	// Site is, for a user of a site that embeds chat rooms, that site's
	// label (its host); their Name is then the name the site gave them.
	// Empty for the server's own users.
	Site string
	// Light: they chose light mode (no typing or presence, for slow or
	// metered links).
	Light bool
	// Display and Zone copy the display name and time zone of their
	// profile (chat.Profile), empty when unset (Display is empty for a
	// site's users too): their messages show the one, their pages use the
	// other. Copies, so the cached user needs no second look-up.
	Display, Zone string
}

// Embedded reports whether u is a user of an embedding site.
func (u User) Embedded() bool { return u.Site != "" }

// RoomKind tells public rooms from private rooms and conversations.
// Stored values. Every kind but KindRoom is seen by its members only.
type RoomKind int

const (
	// KindRoom is a public room: anyone may find and join it.
	KindRoom RoomKind = 0
	// KindDirect is a conversation between two people: private to them,
	// found again whenever either starts one with the other, never left.
	KindDirect RoomKind = 1
	// KindGroup is a conversation among people chosen when it starts:
	// private to its members, who may leave.
	KindGroup RoomKind = 2
	// KindPrivate is a room only its members see: it is not listed, and
	// people join it only by invitation. A kind rather than a flag on
	// KindRoom, so that every check for "a public room" (listing, joining,
	// embedding, unique names) refuses it without knowing of it.
	KindPrivate RoomKind = 3
)

// A conversation's Name lists its members' usernames; see Room.Title.

// Room is a place where members chat: a public room or a conversation.
type Room struct {
	ID        int64
	Kind      RoomKind
	Name      string
	Topic     string
	CreatedBy int64
	Created   time.Time
	// Members is the number of current members, when the query filled it.
	Members int
	// Unread counts the messages waiting for the viewer here (others'
	// text after their read mark, at most MaxCounted), and Mentions those
	// of them that mention the viewer, when the query filled them. LastID
	// is the room's newest message id when they were counted: live
	// messages up to it are already in the counts.
	Unread, Mentions int
	LastID           int64
	// GroupName is a group conversation's name chosen by its members;
	// empty, it is named by its members.
	GroupName string
	// Tag tells the room from another of the viewer's with the same title
	// (see Disambiguate); empty when none shares it.
	Tag string
}

// Kind tells a user's text apart from the system lines a room shows.
type Kind int

// Message kinds. Their values are stored; never renumber them.
const (
	KindText  Kind = 0
	KindJoin  Kind = 1
	KindLeave Kind = 2
	// KindRemoved: the author was removed; Body names who removed them.
	KindRemoved Kind = 3
	// KindAnnouncement is text sent to many people at once, each copy in
	// the recipient's direct conversation with the sender.
	KindAnnouncement Kind = 4
)

// Text reports whether a message of this kind is something a person wrote
// (as opposed to a system line).
func (k Kind) Text() bool { return k == KindText || k == KindAnnouncement }

// Leaves reports whether a line of this kind ends its author's membership.
func (k Kind) Leaves() bool { return k == KindLeave || k == KindRemoved }

// Message is one line in a room: text someone posted or a system line.
// Its ID comes from the store, grows in commit order and doubles as the
// stream's event id.
type Message struct {
	ID       int64
	RoomID   int64
	AuthorID int64
	Author   string
	// AuthorDisplay is the author's display name, empty when they have
	// none (and for a site's users, whose Author is the site-given name).
	AuthorDisplay string
	// AuthorSite is the embedding site of an embedded author, or empty.
	AuthorSite string
	Kind       Kind
	Body       string
	Sent       time.Time
	// Members is, on a join or leave line fresh from a commit, the room's
	// member count after the change; zero when unknown (e.g. from history).
	Members int
	// Mentions are the room's members the text mentions by name (never
	// its author); MentionsRoom says it mentions everyone (@room).
	Mentions     []Mention
	MentionsRoom bool
	// Changed is the stream event id of the newest change to it (an edit,
	// a delete, a reaction), 0 when none: see EventID.
	Changed int64
	// Edited is when its text was last edited (zero: never). A deleted
	// message keeps its author and time, but no text.
	Edited  time.Time
	Deleted bool
	// ReplyTo is the message it answers, if any.
	ReplyTo *Quote
	// Reactions are who reacted with what, in Reactions order, empty
	// emoji left out.
	Reactions []Reaction
	// OnlyReactions, on a message fresh from a commit, says only its
	// reactions changed: streams get just those.
	OnlyReactions bool
}

// EventID is the stream event id of this version of m: a message's first
// version carries its own id, each change a newer one from the same
// sequence, so a stream resuming from any id misses no change.
func (m Message) EventID() int64 { return max(m.ID, m.Changed) }

// A Message with ID 0 fresh from a commit stored no line: it is a silent
// membership change (KindJoin or KindLeave of AuthorID in RoomID), as when
// a conversation starts, which streams must learn but nobody reads.
func (m Message) Silent() bool { return m.ID == 0 }

// Member is a user in a room's member list.
type Member struct {
	User   User
	Joined time.Time
	// RoomAdmin: the member manages the room (see CanManage).
	RoomAdmin bool
}

// Membership links a user to a room they joined.
type Membership struct {
	RoomID int64
	UserID int64
}

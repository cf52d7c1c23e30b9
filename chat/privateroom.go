package chat

import (
	"strconv"
	"strings"
	"time"
)

// Visibility names a room's kind as the room forms offer it.
const (
	VisibilityPublic  = "public"
	VisibilityPrivate = "private"
)

// ParseVisibility reads a form's visibility: "public" (or nothing) makes a
// public room, "private" a private one.
func ParseVisibility(s string) (RoomKind, error) {
	switch strings.TrimSpace(s) {
	case "", VisibilityPublic:
		return KindRoom, nil
	case VisibilityPrivate:
		return KindPrivate, nil
	}
	return 0, FieldErrorf("visibility", Invalid, "Visibility must be public or private.")
}

// Visibility is the form value for r's kind.
func (r Room) Visibility() string {
	if r.Kind == KindPrivate {
		return VisibilityPrivate
	}
	return VisibilityPublic
}

// CanManage reports whether u may manage r (its settings, invitations and
// members): site admins and r's room admins may. roomAdmin says whether u
// is one. Conversations have no managers: their members are equals.
func CanManage(u User, r Room, roomAdmin bool) bool {
	return !r.Conversation() && (u.Admin || roomAdmin)
}

// CheckRemove says why by may not remove target from r, or nil if they
// may: managers remove members who are not room admins; site admins and
// the room's creator remove room admins too. Nobody removes themselves
// (they leave) or the creator. byAdmin and targetAdmin say who is a room
// admin.
func CheckRemove(by User, byAdmin bool, target User, targetAdmin bool, r Room) error {
	switch {
	case r.Conversation():
		return Errorf(Forbidden, "Nobody can remove people from a conversation; each may leave a group.")
	case !CanManage(by, r, byAdmin):
		return Errorf(Forbidden, "Only the room's admins can remove members.")
	case by.ID == target.ID:
		return Errorf(Invalid, "To leave a room yourself, use Leave room.")
	case target.ID == r.CreatedBy:
		return Errorf(Forbidden, "Nobody can remove a room's creator.")
	case targetAdmin && !by.Admin && by.ID != r.CreatedBy:
		return Errorf(Forbidden, "Only the room's creator or a site admin can remove a room admin.")
	}
	return nil
}

// CanAppoint reports whether u may make members room admins, or stop them
// being ones: the room's creator and site admins may.
func CanAppoint(u User, r Room) bool {
	return !r.Conversation() && (u.Admin || u.ID == r.CreatedBy)
}

// RoomSettings are what a room's settings page changes: its name, topic
// and whether it is public (KindRoom) or private (KindPrivate).
type RoomSettings struct {
	Name, Topic string
	Kind        RoomKind
}

// Invitation is what an invite link offers one person.
type Invitation struct {
	Link InviteLink
	Room Room // with its member count
	// Member: the person is in the room already.
	Member bool
}

// InviteLink lets whoever holds it join a room (a private one, usually)
// until it expires, is revoked or is used up.
type InviteLink struct {
	ID     int64
	RoomID int64
	// Token is the secret part of the link's address, known only when the
	// link was just made: the store keeps its hash.
	Token     string
	CreatedBy string // the username of whoever made it
	Created   time.Time
	Expires   time.Time
	// MaxUses is how many people may join with it; 0 means any number.
	MaxUses int
	Uses    int
}

// InvitePath is the address of an invite link with token.
func InvitePath(token string) string { return "/invite/" + token }

// UsesLeft describes how many more people may join with l.
func (l InviteLink) UsesLeft() string {
	if l.MaxUses == 0 {
		return "any number of people"
	}
	left := l.MaxUses - l.Uses
	if left == 1 {
		return "1 person"
	}
	return strconv.Itoa(left) + " people"
}

// InviteLifetimes are the lifetimes an invite link may be made with,
// shortest first; DefaultInviteLifetime is the form's choice.
var InviteLifetimes = []time.Duration{time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour}

// DefaultInviteLifetime is what the invite form offers first.
const DefaultInviteLifetime = 7 * 24 * time.Hour

// ParseInviteLink reads the invite form: a lifetime in hours among
// InviteLifetimes, and uses "1" (single-use) or "0" (any number).
func ParseInviteLink(hours, uses string) (time.Duration, int, error) {
	h, err := strconv.Atoi(strings.TrimSpace(hours))
	life := time.Duration(h) * time.Hour
	if err != nil || !containsDuration(InviteLifetimes, life) {
		return 0, 0, FieldErrorf("expires", Invalid, "Choose how long the link works: an hour, a day, a week or 30 days.")
	}
	switch strings.TrimSpace(uses) {
	case "1":
		return life, 1, nil
	case "0", "":
		return life, 0, nil
	}
	return 0, 0, FieldErrorf("uses", Invalid, "A link works once or for any number of people.")
}

func containsDuration(ds []time.Duration, d time.Duration) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// LifetimeText names one of InviteLifetimes for the form.
func LifetimeText(d time.Duration) string {
	switch d {
	case time.Hour:
		return "1 hour"
	case 24 * time.Hour:
		return "1 day"
	case 7 * 24 * time.Hour:
		return "7 days"
	}
	return strconv.Itoa(int(d.Hours()/24)) + " days"
}

// CleanGroupName validates a group conversation's name; empty clears it,
// so the group is named by its members again.
func CleanGroupName(s string) (string, error) {
	return cleanName("name", "Name", s, MaxRoomNameRunes, false)
}

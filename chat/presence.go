package chat

import "time"

// Presence is whether a person is around: online (a page of theirs is open
// and was used lately), away (open, but unused for a while) or offline (no
// page open). It is never stored: the server knows it from open streams.
type Presence uint8

const (
	PresenceOffline Presence = iota
	PresenceAway
	PresenceOnline
)

// String is the state's name as pages carry it (data-presence="away").
func (p Presence) String() string {
	switch p {
	case PresenceOnline:
		return "online"
	case PresenceAway:
		return "away"
	}
	return "offline"
}

// Label is the state as people read it.
func (p Presence) Label() string {
	switch p {
	case PresenceOnline:
		return "Online"
	case PresenceAway:
		return "Away"
	}
	return "Offline"
}

// PresenceChange is one person's new presence, as a room's members learn it.
type PresenceChange struct {
	User  int64
	State Presence
}

// Typist is someone typing in a room, named as their messages are.
type Typist struct {
	ID   int64
	Name string
}

// Seen is someone with a page open on one node, and when they last did
// something there: what nodes tell each other so that presence is the
// same on all of them.
type Seen struct {
	User   int64
	Active time.Time
}

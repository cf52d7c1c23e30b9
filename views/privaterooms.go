package views

import (
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/rtmessenger/rtmessenger/chat"
)

// SettingsPage is a room's settings (its managers'), or a group
// conversation's (any member's): name, topic and visibility, inviting
// people by username, and a room's invite links.
type SettingsPage struct {
	Page
	Room   chat.Room
	Joined []chat.Room
	Form   SettingsForm
	Add    AddForm
	// Links are a room's working invite links; NewLink is one just made,
	// shown this once (only its hash is kept).
	Links     []chat.InviteLink
	NewLink   *FreshLink
	LinkError string
	// Saved says the settings were just saved.
	Saved bool
}

// SettingsForm is the settings form with what was typed and what was wrong.
type SettingsForm struct {
	Name, Topic, Visibility string
	Error                   string
}

// AddForm adds a person by username; Added names who was just added.
type AddForm struct {
	Username, Error, Added string
}

// FreshLink is an invite link just made.
type FreshLink struct {
	URL     string
	Expires time.Time
	Uses    string
}

// InvitePage is what an invite link shows whoever opens it: the room and
// a Join button.
type InvitePage struct {
	Page
	Joined     []chat.Room
	Invitation chat.Invitation
	Token      string
}

func settingsURL(room int64) templ.SafeURL { return roomAction(room, "settings") }

func memberAction(room, user int64, action string) templ.SafeURL {
	return templ.SafeURL(roomPath(room) + "/members/" + strconv.FormatInt(user, 10) + "/" + action)
}

func revokeAction(room, link int64) templ.SafeURL {
	return templ.SafeURL(roomPath(room) + "/invites/" + strconv.FormatInt(link, 10) + "/revoke")
}

func inviteAction(token string) templ.SafeURL { return templ.SafeURL(chat.InvitePath(token)) }

// tagText is a room's Tag as its title shows it, after the name.
func tagText(r chat.Room) string {
	if r.Tag == "" {
		return ""
	}
	return " (" + r.Tag + ")"
}

func lifetimeHours(d time.Duration) string { return strconv.Itoa(int(d.Hours())) }

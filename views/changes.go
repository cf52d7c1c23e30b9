package views

import (
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/rtmessenger/rtmessenger/chat"
)

// messagePath is a message's own address: the room's history around it.
func messagePath(room, id int64) string {
	return roomPath(room) + "/messages/" + strconv.FormatInt(id, 10)
}

// anchoredPath is messagePath scrolled to the message itself.
func anchoredPath(room, id int64) string { return messagePath(room, id) + "#" + msgID(id) }

// messageAction is where a form acts on a message (edit, delete, …).
func messageAction(room, id int64, action string) templ.SafeURL {
	return templ.SafeURL(messagePath(room, id) + "/" + action)
}

func reactionsID(id int64) string { return "rx-" + strconv.FormatInt(id, 10) }

// reactorIDs lists who reacted, space-separated and padded, so the page
// finds its own user with [data-by~="id"] or a plain includes(" id ").
func reactorIDs(r chat.Reaction) string {
	var b strings.Builder
	b.WriteByte(' ')
	for _, u := range r.Users {
		b.WriteString(strconv.FormatInt(u.ID, 10))
		b.WriteByte(' ')
	}
	return b.String()
}

func reactorNames(r chat.Reaction) string {
	names := make([]string, len(r.Users))
	for i, u := range r.Users {
		names[i] = u.Name
	}
	return strings.Join(names, ", ")
}

func reactionCount(r chat.Reaction) string { return strconv.Itoa(len(r.Users)) }

func idText(id int64) string { return strconv.FormatInt(id, 10) }

// pressed says whether the page's user reacted to m with emoji.
func pressed(m chat.Message, emoji string, p Page) string {
	if p.User == nil {
		return "false"
	}
	for _, r := range m.Reactions {
		if r.Emoji != emoji {
			continue
		}
		for _, u := range r.Users {
			if u.ID == p.User.ID {
				return "true"
			}
		}
	}
	return "false"
}

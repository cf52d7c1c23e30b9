package chat

import (
	"slices"
	"strconv"
	"strings"
)

// conversationSep joins member usernames in a conversation's stored name;
// usernames cannot contain it.
const conversationSep = ", "

// ConversationName is the stored name of a conversation among usernames.
func ConversationName(usernames []string) string {
	names := slices.Clone(usernames)
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return strings.Join(names, conversationSep)
}

// ConversationKey identifies a conversation by its members, so starting one
// with the same people again finds the existing one.
func ConversationKey(ids []int64) string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ":")
}

// Title is how the room is named to viewer: a room by its name, a group by
// the name its members gave it, a conversation otherwise by the other
// people in it; then its Tag, if it has one.
func (r Room) Title(viewer string) string {
	t := r.BaseTitle(viewer)
	if r.Tag != "" {
		t += " (" + r.Tag + ")"
	}
	return t
}

// BaseTitle is Title without the Tag.
func (r Room) BaseTitle(viewer string) string {
	switch {
	case !r.Conversation():
		return "# " + r.Name
	case r.GroupName != "":
		return r.GroupName
	}
	return r.Others(viewer)
}

// Others lists a conversation's members but viewer, by username.
func (r Room) Others(viewer string) string {
	var others []string
	for _, n := range strings.Split(r.Name, conversationSep) {
		if n != "" && !strings.EqualFold(n, viewer) {
			others = append(others, n)
		}
	}
	if len(others) == 0 {
		return "Just you"
	}
	return strings.Join(others, conversationSep)
}

// Private reports whether only r's members see it: a private room or a
// conversation. To anyone else it does not exist.
func (r Room) Private() bool { return r.Kind != KindRoom }

// Conversation reports whether r is a direct or group conversation rather
// than a room.
func (r Room) Conversation() bool { return r.Kind == KindDirect || r.Kind == KindGroup }

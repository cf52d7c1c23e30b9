package chat

import (
	"slices"
	"strconv"
	"strings"
)

// MentionRoom, written @room, mentions everyone in the room; it works for
// the room's creator, its room admins and site admins only (CanMentionRoom).
// For anyone else it is plain text.
const MentionRoom = "room"

// MaxMentions caps how many distinct names one message can mention: each
// costs a lookup in the writer's transaction.
const MaxMentions = 20

// MaxCounted caps unread and mention counts: past it a count reads "99+",
// and a room never read costs no more to count than one read yesterday.
const MaxCounted = 100

// Mention is a person a message mentions by name.
type Mention struct {
	UserID int64
	Name   string // their username, as stored
}

// MentionToken is one @name in a text: text[Start:End] is "@" + Name.
type MentionToken struct {
	Start, End int
	Name       string
}

// ParseMentions finds the @names in text: an "@" at the start of a word
// (not inside an email address or after another "@"), then a name in the
// username charset (CleanUsername). Dots, dashes and underscores that end
// the run are punctuation, not name ("thanks @bob."). A run shorter or
// longer than a username can be is no mention.
func ParseMentions(text string) []MentionToken {
	var out []MentionToken
	for i := 0; i < len(text); i++ {
		if text[i] != '@' || (i > 0 && (nameByte(text[i-1]) || text[i-1] == '@')) {
			continue
		}
		end := i + 1
		for end < len(text) && nameByte(text[end]) {
			end++
		}
		run := text[i+1 : end]
		name := strings.TrimRight(run, "._-")
		if len(name) >= MinUsernameRunes && len(run) <= MaxUsernameRunes && alnum(name[0]) {
			out = append(out, MentionToken{Start: i, End: i + 1 + len(name), Name: name})
		}
		i = end - 1
	}
	return out
}

// MentionNames lists the distinct names text mentions, lower-cased, in
// order of first appearance, at most MaxMentions of them.
func MentionNames(text string) []string {
	var names []string
	for _, t := range ParseMentions(text) {
		n := strings.ToLower(t.Name)
		if !slices.Contains(names, n) {
			if len(names) == MaxMentions {
				break
			}
			names = append(names, n)
		}
	}
	return names
}

// CanMentionRoom reports whether u may mention everyone in r with @room:
// its creator, its room admins (roomAdmin) and site admins may.
func CanMentionRoom(u User, r Room, roomAdmin bool) bool {
	return u.Admin || u.ID == r.CreatedBy || roomAdmin
}

// MentionIDs is what a message's markup says it mentions, for the page's
// script and style: "room" for @room, then user ids, space-separated.
func (m Message) MentionIDs() string {
	var b []byte
	if m.MentionsRoom {
		b = append(b, MentionRoom...)
	}
	for _, x := range m.Mentions {
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, x.UserID, 10)
	}
	return string(b)
}

// MentionedName reports whether name (as written after "@") is one that m
// mentions: such names are shown as mentions, any other @word as text.
func (m Message) MentionedName(name string) bool {
	if m.MentionsRoom && strings.EqualFold(name, MentionRoom) {
		return true
	}
	for _, x := range m.Mentions {
		if strings.EqualFold(x.Name, name) {
			return true
		}
	}
	return false
}

// CountText shows a count capped at MaxCounted as the sidebar does.
func CountText(n int) string {
	if n >= MaxCounted {
		return strconv.Itoa(MaxCounted-1) + "+"
	}
	return strconv.Itoa(n)
}

func nameByte(c byte) bool { return alnum(c) || c == '.' || c == '_' || c == '-' }

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

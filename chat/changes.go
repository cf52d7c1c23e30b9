package chat

import (
	"strings"
	"time"
)

// Reactions is the fixed set people can react with, in display order.
var Reactions = []string{"👍", "❤️", "😂", "🎉", "👀", "✅"}

// CheckReaction says whether emoji is one of Reactions.
func CheckReaction(emoji string) error {
	for _, r := range Reactions {
		if r == emoji {
			return nil
		}
	}
	return FieldErrorf("emoji", Invalid, "Pick one of the reactions offered.")
}

// Reaction is one emoji on a message and who reacted with it, in the order
// they did.
type Reaction struct {
	Emoji string
	Users []Reactor
}

// Reactor is someone who reacted.
type Reactor struct {
	ID   int64
	Name string
}

// Quote is what a reply shows of the message it answers.
type Quote struct {
	ID      int64
	Author  string
	Snippet string // the start of its current text; empty when deleted
	Deleted bool
}

// QuoteRunes is how much of the original a reply quotes.
const QuoteRunes = 120

// QuoteOf makes the quote a reply shows of m.
func QuoteOf(m Message) Quote {
	q := Quote{ID: m.ID, Author: m.Author, Deleted: m.Deleted}
	if m.AuthorDisplay != "" {
		q.Author = m.AuthorDisplay
	}
	if !m.Deleted {
		q.Snippet = Snippet(m.Body, QuoteRunes)
	}
	return q
}

// Snippet is the start of body on one line, at most n runes, with "…"
// when cut.
func Snippet(body string, n int) string {
	s := strings.Join(strings.Fields(body), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// Edit is one earlier version of a message: the text an edit replaced.
type Edit struct {
	Editor  string
	OldBody string
	At      time.Time
}

// CheckEdit says why u may not edit m, or nil: only its author edits it,
// only text, and not once deleted.
func CheckEdit(u User, m Message) error {
	switch {
	case m.AuthorID != u.ID:
		return Errorf(Forbidden, "You can only edit your own messages.")
	case m.Kind != KindText:
		return Errorf(Invalid, "This message cannot be edited.")
	case m.Deleted:
		return Errorf(Conflict, "This message was deleted.")
	}
	return nil
}

// CheckDelete says why u may not delete m in r, or nil: its author may,
// and so may those who manage the room (CanManage; roomAdmin says whether
// u is one of its admins).
func CheckDelete(u User, m Message, r Room, roomAdmin bool) error {
	switch {
	case m.Kind != KindText && m.Kind != KindAnnouncement:
		return Errorf(Invalid, "This line cannot be deleted.")
	case m.Deleted:
		return Errorf(Conflict, "This message was already deleted.")
	case m.AuthorID != u.ID && !CanManage(u, r, roomAdmin):
		return Errorf(Forbidden, "You can only delete your own messages.")
	}
	return nil
}

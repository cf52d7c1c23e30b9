package views

import (
	"strconv"

	"github.com/rtmessenger/rtmessenger/chat"
)

// MentionsPage lists the messages that mention the viewer, newest first.
type MentionsPage struct {
	Page
	Joined   []chat.Room
	Messages []chat.Message
	// Rooms names each message's room, by id (the viewer's rooms).
	Rooms map[int64]chat.Room
	// Older is the cursor of the next page, 0 when there is none.
	Older int64
}

// MaxSuggestions is how many people the composer suggests after "@".
const MaxSuggestions = 8

// Suggestions is what the composer offers after "@": members whose
// username starts with what was typed, and @room when the viewer may use it.
type Suggestions struct {
	People []chat.Person
	Room   bool
}

func countsID(room int64) string { return "counts-" + strconv.FormatInt(room, 10) }

func suggestionsPath(room int64) string { return roomPath(room) + "/mention-suggestions" }

func mentionsPage(before int64) string { return "/mentions?before=" + strconv.FormatInt(before, 10) }

// FirstUnread is the id of the first message in msgs that viewer had not
// read (after mark, text by someone else), where the "New messages" line
// goes; 0 when there is none.
func FirstUnread(msgs []chat.Message, viewer, mark int64) int64 {
	for _, m := range msgs {
		if m.ID > mark && m.Kind.Text() && m.AuthorID != viewer {
			return m.ID
		}
	}
	return 0
}

// room finds the room a listed mention is in.
func (p MentionsPage) room(m chat.Message) chat.Room {
	if r, ok := p.Rooms[m.RoomID]; ok {
		return r
	}
	return chat.Room{ID: m.RoomID}
}

package views

import (
	"net/url"
	"strconv"

	"github.com/a-h/templ"
	"github.com/rtmessenger/rtmessenger/chat"
)

// SearchPage is the search form and, once something was asked, a page of
// what was found.
type SearchPage struct {
	Page
	Joined []chat.Room
	// Rooms names each hit's room, by id (the viewer's rooms).
	Rooms map[int64]chat.Room
	// Form is what was asked, as typed, to fill the form and page links.
	Q, Room, Author, Before string
	PageNo                  int // 1-based
	Asked                   bool
	Error                   string
	Hits                    []chat.SearchHit
	More                    bool
}

func (p SearchPage) room(id int64) chat.Room {
	if r, ok := p.Rooms[id]; ok {
		return r
	}
	return chat.Room{ID: id, Name: strconv.FormatInt(id, 10)}
}

// pageURL is this search's page n.
func (p SearchPage) pageURL(n int) templ.SafeURL {
	v := url.Values{"q": {p.Q}}
	for k, s := range map[string]string{"room": p.Room, "author": p.Author, "before": p.Before} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	return templ.SafeURL("/search?" + v.Encode())
}

// permalinkPath is where a message lives: its room's history around it,
// scrolled to it (the fragment) and highlighted (:target).
func permalinkPath(m chat.Message) string { return anchoredPath(m.RoomID, m.ID) }

func permalinkURL(m chat.Message) templ.SafeURL { return templ.SafeURL(permalinkPath(m)) }

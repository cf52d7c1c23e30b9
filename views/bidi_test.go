package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/rtmessenger/rtmessenger/chat"
)

func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// Text people type is shown isolated wherever it sits beside other text:
// a right-to-left override in a message cannot reach the author's name or
// the time, nor a room name its count. The fragment is the same bytes for
// every reader.
func TestUserTextIsRenderedIsolated(t *testing.T) {
	rlo := "\u202Egnp.exe"
	sent := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	room := chat.Room{ID: 7, Name: "שלום", Topic: "topic 2", Members: 3}
	p := Page{Title: "t", User: &chat.User{ID: 1, Name: "ann"}}
	for _, c := range []struct {
		name  string
		comp  templ.Component
		wants []string
	}{
		{"message", MessageEvent(chat.Message{ID: 1, RoomID: 7, Author: "eve", Kind: chat.KindText, Body: rlo, Sent: sent}),
			[]string{`<div class="body" dir="auto">` + rlo + `</div>`}},
		{"announcement in a conversation", MessageEvent(chat.Message{ID: 2, RoomID: 7, Author: "eve", Kind: chat.KindAnnouncement, Body: rlo, Sent: sent}),
			[]string{`<div class="body" dir="auto">` + rlo + `</div>`}},
		{"announcement list", AnnounceView(AnnouncePage{Page: p, Joined: []chat.Room{room}, Rooms: []chat.Room{room}, Mine: []chat.Announcement{{ID: 3, Body: rlo, Sent: sent}}}),
			[]string{`dir="auto">` + rlo + `</a>`, `<span># <bdi>שלום</bdi></span> <span class="muted">(3 people)`}},
		{"announcement page", AnnouncementView(AnnouncementPage{Page: p, Announcement: chat.Announcement{ID: 3, Body: rlo, Sent: sent}}),
			[]string{`<blockquote class="body announcement-body" dir="auto">` + rlo + `</blockquote>`}},
		{"room page", RoomView(RoomPage{Page: p, Room: room, Joined: []chat.Room{room}}),
			[]string{`· <bdi>topic 2</bdi>`, `Join # <bdi>שלום</bdi></button>`, `# <bdi>שלום</bdi> <span class="unread">`}},
		{"rooms page", RoomsView(RoomsPage{Page: p, Others: []chat.Room{room}}),
			[]string{`class="room-name"># <bdi>שלום</bdi></a>`, `· <bdi>topic 2</bdi>`}},
		{"members page", MembersView(MembersPage{Page: p, Room: room}), []string{`<h1>Members of # <bdi>שלום</bdi></h1>`}},
		{"directory", PeopleView(PeoplePage{Page: p, People: []chat.Person{{User: chat.User{Name: "eve"},
			Profile: chat.Profile{DisplayName: "Eve", Title: "מהנדסת", Department: "Ops", Bio: "bio"}}}}),
			[]string{`class="person-name" href="/people/eve" dir="auto">Eve</a>`, `<p class="role"><bdi>מהנדסת</bdi> · <bdi>Ops</bdi></p>`, `<p class="bio" dir="auto">bio</p>`}},
		{"person page", PersonView(PersonPage{Page: p, Person: chat.Person{User: chat.User{Name: "eve"}, Profile: chat.Profile{Department: "Ops", Bio: "bio"}}}),
			[]string{`<p class="role"><bdi>Ops</bdi></p>`, `<p class="bio body" dir="auto">bio</p>`}},
	} {
		out := strings.Join(strings.Fields(render(t, c.comp)), " ") // runs of spaces render as one
		for _, w := range c.wants {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q:\n%s", c.name, w, out)
			}
		}
	}
}

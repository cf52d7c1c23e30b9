package views

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/attack"
	"golang.org/x/net/html"
)

// logShape is what a rendered log's lines are, in order: "day 2026-03-01",
// "new", "msg-3", or "msg-4 cont" for a message grouped with the one before.
func logShape(t *testing.T, out string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var shape []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "li" {
			continue
		}
		id, class, day := attr(n, "id"), strings.Fields(attr(n, "class")), attr(n, "data-day")
		switch {
		case slices.Contains(class, "day"):
			shape = append(shape, "day "+day)
		case slices.Contains(class, "new-line"):
			shape = append(shape, "new")
		case slices.Contains(class, "cont"):
			shape = append(shape, id+" cont")
		default:
			shape = append(shape, id)
		}
	}
	return shape
}

func text(id int64, author int64, at time.Time) chat.Message {
	return chat.Message{ID: id, RoomID: 5, AuthorID: author, Author: "u" + string(rune('0'+author)), Kind: chat.KindText, Body: "hi", Sent: at}
}

// A run of one author's messages, each within five minutes of the one
// before, shows one name; a day line, the New messages line, a system
// line, another author or a longer pause starts a new group. Days are the
// reader's: the same messages cross midnight in Tokyo but not in UTC.
func TestRoomLogGroupsAndSeparatesDays(t *testing.T) {
	at := func(hh, mm int) time.Time { return time.Date(2026, 3, 1, hh, mm, 0, 0, time.UTC) }
	join := chat.Message{ID: 4, RoomID: 5, AuthorID: 1, Author: "u1", Kind: chat.KindJoin, Sent: at(14, 55)}
	msgs := []chat.Message{
		text(1, 1, at(14, 50)),
		text(2, 1, at(14, 52)), // grouped
		text(3, 2, at(14, 53)), // another author
		join,                   // a system line
		text(5, 1, at(14, 56)), // after a system line
		text(6, 1, at(15, 1)),  // 00:01 in Tokyo: a new day there
		text(7, 1, at(15, 2)),  // grouped
		text(8, 1, at(15, 8)),  // six minutes later
		text(9, 1, at(15, 9)),  // after the New messages line
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		zone *time.Location
		want []string
	}{
		{tokyo, []string{"day 2026-03-01", "msg-1", "msg-2 cont", "msg-3", "msg-4", "msg-5",
			"day 2026-03-02", "msg-6", "msg-7 cont", "msg-8", "new", "msg-9"}},
		{nil, []string{"day 2026-03-01", "msg-1", "msg-2 cont", "msg-3", "msg-4", "msg-5",
			"msg-6 cont", "msg-7 cont", "msg-8", "new", "msg-9"}},
	} {
		got := logShape(t, render(t, RoomLog(chat.Room{ID: 5, Name: "x"}, msgs, 9, c.zone)))
		if !slices.Equal(got, c.want) {
			t.Errorf("zone %v:\n got %v\nwant %v", c.zone, got, c.want)
		}
	}
	out := render(t, RoomLog(chat.Room{ID: 5}, msgs, 0, tokyo))
	mustHave(t, out, `<li class="day" data-day="2026-03-02"><span>Monday, 2 March 2026</span></li>`,
		`<time datetime="2026-03-01T15:01:00Z" title="Monday, 2 March 2026 00:01 JST">00:01</time>`)
	// Without a zone of their own, a reader sees UTC, named.
	out = render(t, RoomLog(chat.Room{ID: 5}, msgs, 0, time.UTC))
	mustHave(t, out, `title="Sunday, 1 March 2026 15:01 UTC">15:01 UTC</time>`)
}

// The stream fragment is the same for every reader: UTC, no grouping, and
// nothing from the reader's page.
func TestFragmentIsTheSameForEveryReader(t *testing.T) {
	m := text(6, 1, time.Date(2026, 3, 1, 15, 1, 0, 0, time.UTC))
	out := render(t, MessageEvent(m))
	mustHave(t, out, `<li id="msg-6" class="msg a1" data-author="1">`, `<time datetime="2026-03-01T15:01:00Z">15:01 UTC</time>`)
	if strings.Contains(out, " cont") || strings.Contains(out, `15:01:00Z" title=`) || strings.Contains(out, `class="author" title=`) {
		t.Errorf("per-reader detail in a fragment:\n%s", out)
	}
}

// A message shows its author's display name, with the username on hover;
// without one, the username; a site's user keeps the site-given name.
func TestMessagesShowDisplayNames(t *testing.T) {
	sent := time.Date(2026, 3, 1, 15, 1, 0, 0, time.UTC)
	m := text(1, 3, sent)
	m.Author, m.AuthorDisplay = "ann", "Ann Lee"
	mustHave(t, render(t, MessageEvent(m)), `<strong class="author" title="@ann">Ann Lee</strong>`)
	m.AuthorDisplay = ""
	mustHave(t, render(t, MessageEvent(m)), `<strong class="author">ann</strong>`)
	site := m
	site.Author, site.AuthorSite = "Dana", "help.example"
	mustHave(t, render(t, MessageEvent(site)), `<strong class="author">Dana</strong> <span class="site">help.example</span>`)
	ann := m
	ann.Kind, ann.AuthorDisplay = chat.KindAnnouncement, "Ann Lee"
	mustHave(t, render(t, MessageEvent(ann)), `<span class="badge">Announcement</span> <strong class="author" title="@ann">Ann Lee</strong> <time`)
	join := m
	join.Kind, join.AuthorDisplay, join.Body = chat.KindJoin, "Ann Lee", ""
	mustHave(t, render(t, MessageEvent(join)), `<strong title="@ann" dir="auto">Ann Lee</strong> joined the room · <time`)
}

// Hostile display names stay text, in fragments and full pages, in the
// name and in a system line, and the username beside them is untouched.
func TestHostileDisplayNamesStayText(t *testing.T) {
	sent := time.Date(2026, 3, 1, 15, 1, 0, 0, time.UTC)
	tried := 0
	for _, payload := range attack.XSS {
		p, err := chat.CleanProfile(chat.Profile{DisplayName: payload})
		if err != nil {
			continue // refused at the door
		}
		tried++
		msg, join := text(1, 3, sent), text(2, 3, sent)
		msg.Author, msg.AuthorDisplay = "eve", p.DisplayName
		join.Author, join.AuthorDisplay, join.Kind, join.Body = "eve", p.DisplayName, chat.KindJoin, ""
		for _, out := range []string{
			render(t, MessageEvent(msg)),
			render(t, MessageEvent(join)),
			render(t, RoomLog(chat.Room{ID: 5}, []chat.Message{msg, join}, 0, time.UTC)),
		} {
			doc, err := html.Parse(strings.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			for n := range doc.Descendants() {
				if n.Type != html.ElementNode {
					continue
				}
				if n.Data == "a" && attr(n, "class") == "more" && attr(n, "href") == "/rooms/5/messages/1/actions" {
					continue // the message's own page, the same for every message
				}
				if !slices.Contains([]string{"html", "head", "body", "hx-upsert", "ol", "li", "span", "div", "strong", "time"}, n.Data) {
					t.Fatalf("%q made a <%s>:\n%s", payload, n.Data, out)
				}
				if n.Data == "strong" {
					if got := n.FirstChild.Data; got != p.DisplayName || attr(n, "title") != "@eve" {
						t.Errorf("name %q (title %q), want %q (@eve)", got, attr(n, "title"), p.DisplayName)
					}
				}
			}
		}
	}
	if tried < len(attack.XSS)/2 {
		t.Fatalf("only %d payloads are valid display names", tried)
	}
}

// The page tells its script the reader's time zone, when they chose one.
func TestPageCarriesTheReadersZone(t *testing.T) {
	user := &chat.User{ID: 1, Name: "ann", Zone: "Asia/Tokyo"}
	mustHave(t, render(t, Layout(Page{Title: "t", User: user})), `data-user="1" data-tz="Asia/Tokyo"`)
	user.Zone = ""
	if out := render(t, Layout(Page{Title: "t", User: user})); strings.Contains(out, "data-tz") {
		t.Error("a zone for a reader who chose none")
	}
}

package views

import (
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"golang.org/x/net/html"
)

// One fragment for every member: the mention marks are the same for all,
// and only names the store resolved are marked.
func TestMentionsInTheFragment(t *testing.T) {
	m := chat.Message{ID: 9, RoomID: 2, AuthorID: 1, Author: "ann", Kind: chat.KindText, Sent: time.Unix(0, 0),
		Body:     "@Bob <b>look</b> @carol, not @dave or @room; mail x@bob.com @bob.",
		Mentions: []chat.Mention{{UserID: 3, Name: "bob"}, {UserID: 9, Name: "carol"}}}
	out := render(t, MessageEvent(m))
	for _, want := range []string{
		`data-author="1" data-mentions="3 9"`,
		`<div class="body" dir="auto"><span class="mention">@Bob</span> &lt;b&gt;look&lt;/b&gt; <span class="mention">@carol</span>, not @dave or @room; mail x@bob.com <span class="mention">@bob</span>.</div>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("fragment lacks %q:\n%s", want, out)
		}
	}
	// The text reads back unchanged: marks add no characters.
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "div" && len(n.Attr) > 0 && n.Attr[0].Val == "body" {
			if got := textOf(n); got != m.Body {
				t.Errorf("body reads %q, want %q", got, m.Body)
			}
		}
		if n.Type == html.ElementNode && n.Data == "b" {
			t.Error("message text became an element")
		}
	}

	all := m
	all.Mentions, all.MentionsRoom = nil, true
	out = render(t, MessageEvent(all))
	mustHave(t, out, `data-mentions="room"`, `or <span class="mention">@room</span>;`, `not @dave`, "@Bob ")

	plain := m
	plain.Mentions = nil
	out = render(t, MessageEvent(plain))
	if strings.Contains(out, "data-mentions") || strings.Contains(out, `class="mention"`) {
		t.Errorf("a message without mentions marks some:\n%s", out)
	}
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

func mustHave(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("lacks %q:\n%s", w, out)
		}
	}
}

func TestNewMessagesLine(t *testing.T) {
	msgs := []chat.Message{
		{ID: 1, AuthorID: 2, Kind: chat.KindText, Body: "read"},
		{ID: 2, AuthorID: 1, Kind: chat.KindText, Body: "mine"},
		{ID: 3, AuthorID: 2, Kind: chat.KindJoin},
		{ID: 4, AuthorID: 2, Kind: chat.KindText, Body: "new"},
	}
	if got := FirstUnread(msgs, 1, 1); got != 4 {
		t.Errorf("FirstUnread = %d, want 4 (own and system lines skipped)", got)
	}
	if got := FirstUnread(msgs, 1, 4); got != 0 {
		t.Errorf("all read: %d", got)
	}
	out := render(t, RoomLog(chat.Room{ID: 5, Name: "x"}, msgs, 4, nil))
	line := strings.Index(out, `class="new-line"`)
	if line < 0 || line < strings.Index(out, `id="msg-3"`) || line > strings.Index(out, `id="msg-4"`) {
		t.Errorf("the line is not right before message 4:\n%s", out)
	}
	if out := render(t, RoomLog(chat.Room{ID: 5}, msgs, 0, nil)); strings.Contains(out, "new-line") {
		t.Error("a line with nothing new")
	}
}

func TestUnreadCountsAndReadEvent(t *testing.T) {
	out := render(t, UnreadCounts(5, 3, 120, 77))
	mustHave(t, out, `id="counts-5"`, `data-last="77"`, `data-unread="3"`, `data-mentions="120"`,
		`<span class="count">3<span class="visually-hidden"> unread</span></span>`, `@99+`)
	if out := render(t, UnreadCounts(5, 0, 0, 77)); strings.Contains(out, `class="count"`) || strings.Contains(out, "@") {
		t.Errorf("zero counts show: %s", out)
	}
	out = render(t, ReadEvent(chat.ReadState{UserID: 1, RoomID: 5, LastRead: 70, Unread: 0, LastID: 77}))
	mustHave(t, out, `<hx-partial hx-target="#counts-5" hx-swap="outerHTML">`, `data-last="77"`, `data-unread="0"`)
}

func TestMentionSuggestions(t *testing.T) {
	out := render(t, MentionSuggestions(Suggestions{Room: true, People: []chat.Person{
		{User: chat.User{Name: "alice"}, Profile: chat.Profile{DisplayName: "Alice <A>"}}, {User: chat.User{Name: "al_x"}}}}))
	mustHave(t, out, `role="listbox"`, `data-name="room"`, `data-name="alice"`, `Alice &lt;A&gt;`, `data-name="al_x"`)
	if n := strings.Count(out, `role="option"`); n != 3 {
		t.Errorf("%d options", n)
	}
	if out := render(t, MentionSuggestions(Suggestions{})); out != "" {
		t.Errorf("no one matches, yet: %q", out)
	}
}

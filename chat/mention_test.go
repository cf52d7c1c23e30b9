package chat

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseMentions(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string // the names found, as written
	}{
		{"hi @bob", []string{"bob"}},
		{"@bob hi", []string{"bob"}},
		{"@Bob and @CAROL", []string{"Bob", "CAROL"}},
		{"thanks @bob.", []string{"bob"}},
		{"@bob, @carol; @dave!", []string{"bob", "carol", "dave"}},
		{"(@bob) [@carol] \"@dave\"", []string{"bob", "carol", "dave"}},
		{"@bob's idea", []string{"bob"}},
		{"@jean.paul-x_y said", []string{"jean.paul-x_y"}},
		{"@jean.paul...", []string{"jean.paul"}},
		{"line\n@bob", []string{"bob"}},
		{"tab\t@bob", []string{"bob"}},
		{"@room look", []string{"room"}},
		{"mail bob@example.com", nil}, // not at a word start
		{"@@bob", nil},                // a second @ is no word start
		{"a.@bob", nil},               // after a name character
		{"@bo", nil},                  // too short for a username
		{"@" + strings.Repeat("x", 32), []string{strings.Repeat("x", 32)}},
		{"@" + strings.Repeat("x", 33), nil}, // too long: not cut to fit
		{"@_bob", nil},                       // a username starts with a letter or digit
		{"@.bob", nil},
		{"@ bob", nil},
		{"@", nil},
		{"bob@", nil},
		{"@é bob", nil},
		{"é@bob", []string{"bob"}}, // a non-ASCII letter is no username character
		{"<b>@bob</b>", []string{"bob"}},
		{"@bob@carol", []string{"bob"}},
	} {
		var got []string
		for _, tok := range ParseMentions(tc.text) {
			if tc.text[tok.Start:tok.End] != "@"+tok.Name {
				t.Errorf("%q: token %+v does not cover @%s", tc.text, tok, tok.Name)
			}
			got = append(got, tok.Name)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseMentions(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestMentionNames(t *testing.T) {
	if got := MentionNames("@Bob @bob @BOB @carol @room"); !reflect.DeepEqual(got, []string{"bob", "carol", "room"}) {
		t.Errorf("repeats and case: %q", got)
	}
	var many []string
	for i := range MaxMentions + 5 {
		many = append(many, "@user"+strings.Repeat("x", i))
	}
	if got := MentionNames(strings.Join(many, " ")); len(got) != MaxMentions {
		t.Errorf("%d names kept, want at most %d", len(got), MaxMentions)
	}
	if got := MentionNames("no mentions here"); got != nil {
		t.Errorf("no mentions: %q", got)
	}
}

func TestMessageMentions(t *testing.T) {
	m := Message{AuthorID: 1, Mentions: []Mention{{3, "bob"}, {9, "Carol"}}}
	if got := m.MentionIDs(); got != "3 9" {
		t.Errorf("MentionIDs = %q", got)
	}
	if !m.MentionedName("BOB") || !m.MentionedName("carol") || m.MentionedName("room") || m.MentionedName("dave") {
		t.Error("MentionedName")
	}
	all := Message{AuthorID: 1, MentionsRoom: true, Mentions: []Mention{{3, "bob"}}}
	if all.MentionIDs() != "room 3" || !all.MentionedName("Room") {
		t.Errorf("@room: %+v", all)
	}
	if (Message{}).MentionIDs() != "" {
		t.Error("no mentions should say nothing")
	}
}

func TestCanMentionRoom(t *testing.T) {
	r := Room{CreatedBy: 1}
	for _, tc := range []struct {
		u         User
		roomAdmin bool
		want      bool
	}{
		{User{ID: 1}, false, true},
		{User{ID: 2}, true, true},
		{User{ID: 2, Admin: true}, false, true},
		{User{ID: 2}, false, false},
	} {
		if got := CanMentionRoom(tc.u, r, tc.roomAdmin); got != tc.want {
			t.Errorf("CanMentionRoom(%+v, admin %v) = %v", tc.u, tc.roomAdmin, got)
		}
	}
}

func TestCountText(t *testing.T) {
	for n, want := range map[int]string{0: "0", 1: "1", 99: "99", 100: "99+", 250: "99+"} {
		if got := CountText(n); got != want {
			t.Errorf("CountText(%d) = %q", n, got)
		}
	}
}

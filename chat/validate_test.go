package chat

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCleanUsername(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"alice", "alice", true},
		{"  Bob.Smith-2_x ", "Bob.Smith-2_x", true},
		{"abc", "abc", true},
		{strings.Repeat("a", 32), strings.Repeat("a", 32), true},
		{"ab", "", false},
		{strings.Repeat("a", 33), "", false},
		{"_lead", "", false},
		{".lead", "", false},
		{"has space", "", false},
		{"émile", "", false},
		{"a\u202Eb", "", false},
		{"bad\xffutf8", "", false},
		{"<script>", "", false},
		{"Import", "", false}, // the directory's import page lives at /people/import
	} {
		got, err := CleanUsername(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("CleanUsername(%q) = %q, %v; want %q ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && (CodeOf(err) != Invalid || FieldOf(err) != "username") {
			t.Errorf("CleanUsername(%q): error %v should be Invalid on username", c.in, err)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"12345678", true},
		{"ñññññññ", false}, // 7 characters even if 14 bytes
		{"ññññññññ", true},
		{strings.Repeat("x", MaxPasswordBytes), true},
		{strings.Repeat("x", MaxPasswordBytes+1), false},
		{"bad\xffbytes!", false},
	} {
		if err := CheckPassword(c.in); (err == nil) != c.ok {
			t.Errorf("CheckPassword(%d bytes) = %v, want ok=%v", len(c.in), err, c.ok)
		}
	}
}

func TestCleanMessage(t *testing.T) {
	for _, c := range []struct {
		in, want, says string
	}{
		{"hello", "hello", ""},
		{"  padded\n\n", "padded", ""},
		{"a\r\nb\rc\nd", "a\nb\nc\nd", ""},
		{"tab\tok", "tab\tok", ""},
		{"<b>kept as text</b>", "<b>kept as text</b>", ""},
		{"", "", "empty"},
		{" \n\t ", "", "empty"},
		{"nul\x00", "", "control character"},
		{"esc\x1b[31m", "", "control character"},
		{"c1\u0085", "", "control character"},
		{"bad\xff", "", "not valid UTF-8"},
		{strings.Repeat("€", MaxMessageRunes), strings.Repeat("€", MaxMessageRunes), ""},
		{strings.Repeat("€", MaxMessageRunes+1), "", "the limit is 4000"},
	} {
		got, err := CleanMessage(c.in)
		if c.says == "" {
			if err != nil || got != c.want {
				t.Errorf("CleanMessage(%.20q) = %.20q, %v; want %.20q", c.in, got, err, c.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.says) || CodeOf(err) != Invalid {
			t.Errorf("CleanMessage(%.20q) error = %v, want one saying %q", c.in, err, c.says)
		}
	}
}

func TestRoomNameAndTopic(t *testing.T) {
	if got, err := CleanRoomName("  General chat "); err != nil || got != "General chat" {
		t.Errorf("CleanRoomName = %q, %v", got, err)
	}
	for _, bad := range []string{"", "   ", "two\nlines", "rtl\u202Eoverride", "iso\u2066late", strings.Repeat("r", MaxRoomNameRunes+1)} {
		if _, err := CleanRoomName(bad); err == nil || FieldOf(err) != "name" {
			t.Errorf("CleanRoomName(%q) = %v, want an error on name", bad, err)
		}
	}
	if got, err := CleanTopic(""); err != nil || got != "" {
		t.Errorf("empty topic: %q, %v", got, err)
	}
	if _, err := CleanTopic(strings.Repeat("t", MaxTopicRunes+1)); err == nil {
		t.Error("over-long topic accepted")
	}
}

func TestErrorHelpers(t *testing.T) {
	err := FieldErrorf("body", TooLarge, "too big: %d", 5)
	if CodeOf(err) != TooLarge || FieldOf(err) != "body" || ErrorText(err) != "too big: 5" {
		t.Errorf("helpers on %v", err)
	}
	plain := strings.NewReader("").UnreadByte() // any non-chat error
	if CodeOf(plain) != Internal || FieldOf(plain) != "" || strings.Contains(ErrorText(plain), "UnreadByte") {
		t.Errorf("internal error leaks or misclassifies: %q", ErrorText(plain))
	}
	if Invalid.String() != "invalid" || Code(99).String() != "code(99)" {
		t.Error("Code.String")
	}
}

func TestClientIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewClientID()
		if _, err := CleanClientID(id); err != nil || len(id) != 28 || seen[id] {
			t.Fatalf("NewClientID gave %q (%v)", id, err)
		}
		seen[id] = true
	}
	// Later ids sort after earlier ones, a millisecond apart or years.
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, gap := range []time.Duration{time.Millisecond, time.Second, 24 * time.Hour, 20 * 365 * 24 * time.Hour} {
		if a, b := clientIDAt(at), clientIDAt(at.Add(gap)); a >= b {
			t.Errorf("id made %v later sorts first: %q, then %q", gap, a, b)
		}
	}
	for _, bad := range []string{"has space", "semi;colon", "ünïcode", strings.Repeat("a", 65)} {
		if _, err := CleanClientID(bad); err == nil || FieldOf(err) != "client_id" {
			t.Errorf("CleanClientID(%q) = %v", bad, err)
		}
	}
	if id, err := CleanClientID(""); err != nil || id != "" {
		t.Errorf("empty id: %q %v", id, err)
	}
}

// Names, topics, profile fields and searches refuse every explicit
// embedding, override and isolate character, saying which field and which
// (invisible) character; messages keep them, since pages show them isolated.
func TestBidiControlsAreRefusedInNames(t *testing.T) {
	profile := func(field string) func(string) (string, error) {
		return func(s string) (string, error) {
			p, err := CleanProfile(profileField(field).Set(Profile{}, s))
			return profileField(field).Value(p), err
		}
	}
	cleaners := []struct {
		field, label string
		clean        func(string) (string, error)
	}{
		{"name", "Room name", CleanRoomName},
		{"topic", "Topic", CleanTopic},
		{"q", "Search", func(s string) (string, error) { return CleanSearch(s, 100) }},
		{"display_name", "Display name", profile("display_name")},
		{"title", "Title", profile("title")},
		{"department", "Department", profile("department")},
		{"bio", "Bio", profile("bio")},
		{"email", "Email", profile("email")},
		{"phone", "Phone", profile("phone")},
	}
	var controls []rune
	for r := rune(0x202A); r <= 0x202E; r++ {
		controls = append(controls, r)
	}
	for r := rune(0x2066); r <= 0x2069; r++ {
		controls = append(controls, r)
	}
	for _, c := range cleaners {
		for _, r := range controls {
			in := "ab" + string(r) + "cd"
			if c.field == "email" {
				in = "a" + string(r) + "@example.com"
			}
			_, err := c.clean(in)
			want := fmt.Sprintf("%s must not contain text-direction control characters (found U+%04X).", c.label, r)
			if FieldOf(err) != c.field || CodeOf(err) != Invalid || !strings.Contains(ErrorText(err), want) {
				t.Errorf("%s with U+%04X: %v, want %q", c.field, r, err, want)
			}
		}
		// Right-to-left letters themselves are fine: only the controls go.
		if got, err := c.clean("שלום"); c.field != "email" && c.field != "phone" && (err != nil || got != "שלום") {
			t.Errorf("%s refused Hebrew text: %q, %v", c.field, got, err)
		}
	}
	for _, r := range controls {
		if _, err := CleanUsername("ab" + string(r) + "cd"); FieldOf(err) != "username" {
			t.Errorf("username with U+%04X: %v", r, err)
		}
		body := "ab" + string(r) + "cd"
		if got, err := CleanMessage(body); err != nil || got != body {
			t.Errorf("message with U+%04X: %q, %v; messages keep it and render isolated", r, got, err)
		}
	}
}

package chat

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

var fuzzSeeds = []string{"hello", "a\r\nb", "  x  ", "\x00", "\xff", "é", "a\u202Eb", "<script>", strings.Repeat("x", 5000), "ok name", "user.name-1_"}

// FuzzCleaners throws arbitrary text at every validator: none may panic, and
// whatever they accept must be valid, within limits, free of forbidden
// characters, and unchanged by cleaning it again.
func FuzzCleaners(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		type cleaner struct {
			name      string
			clean     func(string) (string, error)
			max       int
			multiline bool
		}
		for _, c := range []cleaner{
			{"message", CleanMessage, MaxMessageRunes, true},
			{"room name", CleanRoomName, MaxRoomNameRunes, false},
			{"topic", CleanTopic, MaxTopicRunes, false},
			{"username", CleanUsername, MaxUsernameRunes, false},
			{"client id", CleanClientID, maxClientIDLen, false},
		} {
			out, err := c.clean(in)
			if err != nil {
				if CodeOf(err) != Invalid || FieldOf(err) == "" || ErrorText(err) == "" {
					t.Fatalf("%s: error %v lacks code, field or text", c.name, err)
				}
				continue
			}
			if !utf8.ValidString(out) || utf8.RuneCountInString(out) > c.max {
				t.Fatalf("%s: accepted %q (invalid or too long)", c.name, out)
			}
			for _, r := range out {
				if r == '\r' || (r == '\n' && !c.multiline) || (unicode.IsControl(r) && r != '\n' && r != '\t') {
					t.Fatalf("%s: accepted control character %U in %q", c.name, r, out)
				}
			}
			if again, err := c.clean(out); err != nil || again != out {
				t.Fatalf("%s: cleaning %q again gave %q, %v", c.name, out, again, err)
			}
		}
	})
}

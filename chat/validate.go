package chat

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// UsernameRule is the documented username charset, quoted in error messages.
const UsernameRule = "3 to 32 characters: letters a–z, digits, and . _ - (starting with a letter or digit)"

// CleanUsername trims s and checks it against UsernameRule. Usernames are
// unique case-insensitively; the store enforces that.
func CleanUsername(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", FieldErrorf("username", Invalid, "Username is not valid UTF-8.")
	}
	n := utf8.RuneCountInString(s)
	if n < MinUsernameRunes || n > MaxUsernameRunes {
		return "", FieldErrorf("username", Invalid, "Username must be %s.", UsernameRule)
	}
	for i, r := range s {
		alnum := r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
		if !alnum && (i == 0 || !strings.ContainsRune("._-", r)) {
			return "", FieldErrorf("username", Invalid, "Username must be %s.", UsernameRule)
		}
	}
	if reservedUsernames[strings.ToLower(s)] {
		return "", FieldErrorf("username", Invalid, "The username %q is reserved.", s)
	}
	return s, nil
}

// reservedUsernames would collide with the directory's own addresses
// (/people/import) or with @room (MentionRoom).
var reservedUsernames = map[string]bool{"import": true, MentionRoom: true}

// CheckPassword enforces the password length rules. The cap keeps hashing
// cost bounded; the floor keeps guessing expensive.
func CheckPassword(p string) error {
	if !utf8.ValidString(p) {
		return FieldErrorf("password", Invalid, "Password is not valid UTF-8.")
	}
	if utf8.RuneCountInString(p) < MinPasswordRunes {
		return FieldErrorf("password", Invalid, "Password must be at least %d characters.", MinPasswordRunes)
	}
	if len(p) > MaxPasswordBytes {
		return FieldErrorf("password", Invalid, "Password must be at most %d bytes.", MaxPasswordBytes)
	}
	return nil
}

// CleanRoomName validates a room name: one line, no bidi controls.
func CleanRoomName(s string) (string, error) {
	s, err := cleanName("name", "Room name", s, MaxRoomNameRunes, false)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", FieldErrorf("name", Invalid, "Room name is required.")
	}
	return s, nil
}

// CleanTopic validates an optional one-line room topic, no bidi controls.
func CleanTopic(s string) (string, error) {
	return cleanName("topic", "Topic", s, MaxTopicRunes, false)
}

// CleanMessage validates a message body. Newlines are kept (CRLF and lone CR
// become LF, so text can never smuggle a line break past the stream framing).
func CleanMessage(s string) (string, error) {
	s, err := cleanText("body", "Message", s, MaxMessageRunes, true)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", FieldErrorf("body", Invalid, "Message is empty.")
	}
	return s, nil
}

// cleanText is the shared rule for free text: valid UTF-8, line breaks
// normalised to LF (and refused unless multiline), no other control
// characters but tab, surrounding whitespace trimmed, at most maxRunes.
func cleanText(field, label, s string, maxRunes int, multiline bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", FieldErrorf(field, Invalid, "%s is not valid UTF-8 text.", label)
	}
	s = NormalizeNewlines(s)
	for _, r := range s {
		if r == '\n' && !multiline {
			return "", FieldErrorf(field, Invalid, "%s must be a single line.", label)
		}
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return "", FieldErrorf(field, Invalid, "%s contains a control character (U+%04X).", label, r)
		}
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n > maxRunes {
		return "", FieldErrorf(field, Invalid, "%s is too long: %d characters, the limit is %d.", label, n, maxRunes)
	}
	return s, nil
}

// cleanName is cleanText for text that names or describes someone or
// something (names, topics, profile fields): it sits inline beside other
// people's text, where a bidi control could make it read as something else,
// and nobody needs one to write a name.
func cleanName(field, label, s string, maxRunes int, multiline bool) (string, error) {
	s, err := cleanText(field, label, s, maxRunes, multiline)
	if err != nil {
		return "", err
	}
	if r, ok := bidiControl(s); ok {
		return "", FieldErrorf(field, Invalid, "%s must not contain text-direction control characters (found U+%04X).", label, r)
	}
	return s, nil
}

// NormalizeNewlines turns CRLF and lone CR into LF.
func NormalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// bidiControl returns the first explicit embedding, override or isolate
// character in s (U+202A–U+202E, U+2066–U+2069), which can make text
// display as something it is not.
func bidiControl(s string) (rune, bool) {
	for _, r := range s {
		if (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) {
			return r, true
		}
	}
	return 0, false
}

// maxClientIDLen bounds the client message id; NewClientID makes 28.
const maxClientIDLen = 64

// CleanClientID checks a client message id: empty (no idempotency) or up to
// 64 characters of A–Z, a–z, 0–9, '-' and '_'.
func CleanClientID(s string) (string, error) {
	if len(s) > maxClientIDLen {
		return "", FieldErrorf("client_id", Invalid, "The message id is too long.")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", FieldErrorf("client_id", Invalid, "The message id may hold only letters, digits, '-' and '_'.")
		}
	}
	return s, nil
}

// NewClientID returns a fresh client message id: the time in milliseconds
// as 12 hex digits, then 96 random bits. Ids sort by when they were made,
// so the store's idempotency index takes new ones at its end: one page
// written a commit, where random ids cost one page per post.
func NewClientID() string {
	return clientIDAt(time.Now())
}

func clientIDAt(t time.Time) string {
	const hexDigits = "0123456789abcdef"
	var id [12 + 16]byte
	ms := uint64(t.UnixMilli())
	for i := 11; i >= 0; i-- {
		id[i] = hexDigits[ms&0xf]
		ms >>= 4
	}
	var random [12]byte
	rand.Read(random[:]) // never fails on supported platforms
	base64.RawURLEncoding.Encode(id[12:], random[:])
	return string(id[:])
}

// CleanSearch checks a search box's text: valid UTF-8, one line, at most
// maxRunes characters, no bidi controls (it is echoed in the page title,
// where nothing can isolate it, and the names it matches hold none).
func CleanSearch(s string, maxRunes int) (string, error) {
	return cleanName("q", "Search", s, maxRunes, false)
}

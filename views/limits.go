package views

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rtmessenger/rtmessenger/chat"
)

// A message box shows how long its text is once that nears the limit
// (the page script keeps the count as one types; a refused text comes
// back with it), instead of cutting a long paste short with maxlength.
const countFrom = chat.MaxMessageRunes - 500

// maxMessage is the limit as the page script reads it (data-max).
var maxMessage = strconv.Itoa(chat.MaxMessageRunes)

// messageLength counts a text as chat.CleanMessage does: characters of the
// trimmed text, a line break as one.
func messageLength(s string) int {
	return utf8.RuneCountInString(strings.TrimSpace(chat.NormalizeNewlines(s)))
}

// lengthText is a message box's count, "3,812 / 4,000".
func lengthText(s string) string {
	return grouped(messageLength(s)) + " / " + grouped(chat.MaxMessageRunes)
}

// grouped writes n with a comma between thousands.
func grouped(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

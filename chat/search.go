package chat

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Search limits.
const (
	MaxSearchRunes = 200
	MaxSearchWords = 12
	SearchPageSize = 20
	// MaxSearchPages bounds paging: ranking every match to skip thousands
	// of them costs more than anyone reads.
	MaxSearchPages = 25
)

// SearchQuery is one search by one person: the words to find, in the
// messages of the rooms they are in now, optionally narrowed.
type SearchQuery struct {
	Words  []string  // from SearchWords
	Room   int64     // only this room (0: all of the person's rooms)
	Author string    // only this username ("": anyone)
	Before time.Time // only messages sent before (zero: any time)
	Page   int       // 0-based, SearchPageSize to a page
}

// SearchHit is a message found, with the part of it that matched.
type SearchHit struct {
	Message Message
	Snippet []Span
}

// Span is a piece of a snippet: plain text, or text that matched a word.
type Span struct {
	Text  string
	Match bool
}

// SearchWords splits what someone typed into the plain words to look for:
// runs of letters and digits, as the search index splits text. Anything
// else (quotes, operators, punctuation) only separates words, so no input
// can make a query of its own.
func SearchWords(q string) ([]string, error) {
	q = strings.TrimSpace(q)
	if n := utf8.RuneCountInString(q); n > MaxSearchRunes {
		return nil, FieldErrorf("q", Invalid, "The search is too long: %d characters, the limit is %d.", n, MaxSearchRunes)
	}
	if _, err := CleanSearch(q, MaxSearchRunes); err != nil {
		return nil, err // not UTF-8, or control characters
	}
	words := strings.FieldsFunc(q, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Co, r)
	})
	if len(words) == 0 {
		return nil, FieldErrorf("q", Invalid, "Type a word to search for.")
	}
	if len(words) > MaxSearchWords {
		return nil, FieldErrorf("q", Invalid, "Search for at most %d words.", MaxSearchWords)
	}
	return words, nil
}

// CleanSearchAuthor checks a search's author filter: a username, with or
// without its @, checked as every other name is.
func CleanSearchAuthor(s string) (string, error) {
	return cleanName("author", "Author", strings.TrimPrefix(strings.TrimSpace(s), "@"), MaxUsernameRunes, false)
}

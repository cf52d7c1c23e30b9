package store

import (
	"strings"
	"unicode"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Snippets for engines whose search gives none the store can use (a
// PostgreSQL headline drops what looks like markup, so its text would
// not be the message's). About as long as FTS5's: up to snippetWords
// words, from a little before the first match.
const (
	snippetWords  = 20
	snippetBefore = 4
)

// snippetOf cuts body around the first of words it holds and marks every
// whole-word match (ignoring case). Text outside the window becomes "…".
func snippetOf(body string, words []string) []chat.Span {
	want := make(map[string]bool, len(words))
	for _, w := range words {
		want[strings.ToLower(w)] = true
	}
	toks := tokens(body)
	first := 0
	for i, t := range toks {
		if t.word && want[strings.ToLower(body[t.from:t.to])] {
			first = i
			break
		}
	}
	from, to := window(toks, first)
	var out []chat.Span
	if toks != nil && toks[from].from > 0 {
		out = append(out, chat.Span{Text: "…"})
	}
	for _, t := range toks[from:to] {
		text := body[t.from:t.to]
		match := t.word && want[strings.ToLower(text)]
		if n := len(out); n > 0 && out[n-1].Match == match && !match {
			out[n-1].Text += text
			continue
		}
		out = append(out, chat.Span{Text: text, Match: match})
	}
	if to < len(toks) {
		out = append(out, chat.Span{Text: "…"})
	}
	return out
}

// window returns the tokens to show: snippetWords words starting
// snippetBefore words before the first match.
func window(toks []token, first int) (from, to int) {
	from = first
	for n := 0; from > 0 && n < snippetBefore; {
		from--
		if toks[from].word {
			n++
		}
	}
	to = from
	for n := 0; to < len(toks) && n < snippetWords; to++ {
		if toks[to].word {
			n++
		}
	}
	return from, to
}

// token is a run of body: a word (letters and digits) or what lies between.
type token struct {
	from, to int
	word     bool
}

func tokens(body string) []token {
	var out []token
	for i, r := range body {
		w := unicode.IsLetter(r) || unicode.IsDigit(r)
		if n := len(out); n > 0 && out[n-1].word == w {
			out[n-1].to = i + len(string(r))
			continue
		}
		out = append(out, token{from: i, to: i + len(string(r)), word: w})
	}
	return out
}

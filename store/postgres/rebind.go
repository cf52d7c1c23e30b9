package postgres

import (
	"strconv"
	"strings"
)

// Rebind rewrites one of the store's statements, written in SQLite's
// dialect, for PostgreSQL. Outside string literals it turns parameters
// (?, ?N) into $N and the few SQLite spellings the store uses into
// PostgreSQL's: COLLATE NOCASE (on text that is not citext) into a
// citext cast, group_concat into string_agg, char into chr, LIKE into
// ILIKE (SQLite's LIKE ignores case), INTEGER into BIGINT.
func (e *Engine) Rebind(query string) string {
	if q, ok := e.rebound.Load(query); ok {
		return q.(string)
	}
	q := rebind(query)
	e.rebound.Store(query, q)
	return q
}

var words = map[string]string{
	"group_concat": "string_agg",
	"char":         "chr",
	"LIKE":         "ILIKE",
	"like":         "ILIKE",
	"INTEGER":      "BIGINT",
}

func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	highest := 0
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'':
			end := stringEnd(query, i)
			b.WriteString(query[i:end])
			i = end
		case c == '?':
			j := i + 1
			for j < len(query) && isDigit(query[j]) {
				j++
			}
			n := highest + 1
			if j > i+1 {
				n, _ = strconv.Atoi(query[i+1 : j])
			}
			highest = max(highest, n)
			b.WriteString("$" + strconv.Itoa(n))
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < len(query) && isIdent(query[j]) {
				j++
			}
			word := query[i:j]
			if strings.EqualFold(word, "COLLATE") && strings.HasPrefix(strings.ToUpper(query[j:]), " NOCASE") {
				trimTrailingSpace(&b)
				b.WriteString("::citext")
				i = j + len(" NOCASE")
				continue
			}
			if to, ok := words[word]; ok && (word != "char" || strings.HasPrefix(query[j:], "(")) {
				word = to
			}
			b.WriteString(word)
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// stringEnd returns the index just past the literal starting at i (” is
// a quote inside it).
func stringEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		if s[j] == '\'' {
			if j+1 < len(s) && s[j+1] == '\'' {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

func trimTrailingSpace(b *strings.Builder) {
	s := strings.TrimRight(b.String(), " \t\n")
	b.Reset()
	b.WriteString(s)
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isIdent(c byte) bool      { return isIdentStart(c) || isDigit(c) }

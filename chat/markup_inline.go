package chat

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// inline parses the markup within one line of a body: code spans, links
// and emphasis. Every step consumes input, and emphasis is matched with a
// stack whose entries are each pushed and popped once, so the work is
// linear in the line's length.
type inline struct {
	*parser
	lo, hi int // the line is body[lo:hi]
	items  []item
	open   []int  // indices in items of delimiters that may still open
	count  [4]int // open delimiters of each kind (delimKind)
	ticks  []tickRun
	tick   int // the first of ticks not yet passed
}

// item is a parsed node, or a run of * or _ not (yet) matched, which is
// text unless a closing run turns it into emphasis.
type item struct {
	Node
	delim byte
}

// tickRun is a run of backticks; next is the index of the next run of
// the same length (the only one that can close it), -1 if none.
type tickRun struct{ pos, n, next int }

// inline appends the nodes of body[lo:hi] to out.
func (pp *parser) inline(out []Node, lo, hi int) []Node {
	p := inline{parser: pp, lo: lo, hi: hi}
	p.scanTicks()
	for i := lo; i < hi; {
		i = p.step(i)
	}
	return p.nodes(out, p.items)
}

func (p *inline) step(i int) int {
	p.steps++
	switch c := p.body[i]; c {
	case '`':
		return p.code(i)
	case '*', '_':
		return p.delim(i, c)
	case 'h', 'H':
		if end := p.link(i); end > i {
			return end
		}
	}
	j := i + 1
	for j < p.hi && !special(p.body[j]) {
		j++
	}
	p.steps += j - i
	p.text(i, j)
	return j
}

// text adds body[i:j] as text, merged into text just before it.
func (p *inline) text(i, j int) {
	if n := len(p.items); n > 0 && p.items[n-1].delim == 0 && p.items[n-1].Kind == NodeText &&
		p.items[n-1].Start+len(p.items[n-1].Text) == i {
		p.items[n-1].Text = p.body[p.items[n-1].Start:j]
		return
	}
	p.items = append(p.items, item{Node: Node{Kind: NodeText, Text: p.body[i:j], Start: i}})
}

// nodes appends items to out as nodes: unmatched delimiters become text.
func (p *inline) nodes(out []Node, items []item) []Node {
	p.steps += len(items)
	for _, it := range items {
		if it.Kind == NodeText {
			out = appendText(out, p.body, it.Start, it.Start+len(it.Text))
		} else {
			out = append(out, it.Node)
		}
	}
	return out
}

func (p *inline) scanTicks() {
	p.steps += p.hi - p.lo
	if strings.IndexByte(p.body[p.lo:p.hi], '`') < 0 {
		return
	}
	last := map[int]int{} // run length → index of the latest run of it
	for i := p.lo; i < p.hi; {
		if p.body[i] != '`' {
			i++
			continue
		}
		n := runLen(p.body[i:p.hi], '`')
		if k, ok := last[n]; ok {
			p.ticks[k].next = len(p.ticks)
		}
		last[n] = len(p.ticks)
		p.ticks = append(p.ticks, tickRun{pos: i, n: n, next: -1})
		i += n
	}
}

// code makes a code span from the backtick run at i to the next run of
// the same length; without one, the run is text.
func (p *inline) code(i int) int {
	for p.ticks[p.tick].pos < i {
		p.steps++
		p.tick++
	}
	r := p.ticks[p.tick]
	if r.next < 0 {
		p.tick++
		p.text(i, i+r.n)
		return i + r.n
	}
	end := p.ticks[r.next].pos
	p.steps += end - i
	code := p.body[i+r.n : end]
	// As in CommonMark: one space each side lets a span start or end
	// with a backtick.
	if len(code) > 2 && code[0] == ' ' && code[len(code)-1] == ' ' && strings.Trim(code, " ") != "" {
		code = code[1 : len(code)-1]
	}
	p.items = append(p.items, item{Node: Node{Kind: NodeCode, Text: code}})
	p.tick = r.next + 1
	return end + r.n
}

// delim handles a run of * or _ at i. Like CommonMark's flanking rules,
// but stricter: a run opens only at the start of a word and closes only
// at its end (so 2*3*4 and snake_case stay text), one or two long (runs
// of three or more are text), and emphasis of a kind does not nest in
// itself, which bounds the depth.
func (p *inline) delim(i int, c byte) int {
	n := runLen(p.body[i:p.hi], c)
	end := i + n
	p.steps += n
	if n > 2 {
		p.text(i, end)
		return end
	}
	k := delimKind(c, n)
	before, _ := utf8.DecodeLastRuneInString(p.body[p.lo:i])
	after, _ := utf8.DecodeRuneInString(p.body[end:p.hi])
	if i == p.lo {
		before = ' '
	}
	if end == p.hi {
		after = ' '
	}
	switch {
	case p.count[k] > 0 && !unicode.IsSpace(before) && !wordRune(after):
		p.close(k, n)
	case p.count[k] == 0 && !unicode.IsSpace(after) && !wordRune(before):
		p.count[k]++
		p.open = append(p.open, len(p.items))
		p.items = append(p.items, item{Node: Node{Kind: NodeText, Text: p.body[i:end], Start: i}, delim: c})
	default:
		p.text(i, end)
	}
	return end
}

// close wraps everything since the innermost open delimiter of kind k
// into emphasis; delimiters opened after it stay text.
func (p *inline) close(k, n int) {
	for {
		p.steps++
		o := p.open[len(p.open)-1]
		p.open = p.open[:len(p.open)-1]
		ok := delimKind(p.items[o].delim, len(p.items[o].Text))
		p.count[ok]--
		if ok != k {
			continue
		}
		kind := NodeEm
		if n == 2 {
			kind = NodeStrong
		}
		children := p.nodes(make([]Node, 0, len(p.items)-o-1), p.items[o+1:])
		p.items = append(p.items[:o], item{Node: Node{Kind: kind, Children: children}})
		return
	}
}

func delimKind(c byte, n int) int {
	if c == '_' {
		return 1 + n
	}
	return n - 1
}

// link makes a link of the URL starting at i, returning where it ends;
// i when no http:// or https:// starts a word there. A URL that fails to
// validate is text.
func (p *inline) link(i int) int {
	n := schemeLen(p.body[i:p.hi])
	if n == 0 {
		return i
	}
	if before, _ := utf8.DecodeLastRuneInString(p.body[p.lo:i]); i > p.lo && wordRune(before) {
		return i
	}
	end := i + n
	for end < p.hi {
		r, size := utf8.DecodeRuneInString(p.body[end:p.hi])
		if urlStop(r) {
			break
		}
		end += size
	}
	p.steps += 2 * (end - i) // the scan, then trimURL
	end = i + trimURL(p.body[i:end])
	if raw := p.body[i:end]; end > i+n && ValidLink(raw) {
		p.items = append(p.items, item{Node: Node{Kind: NodeLink, Text: raw, Start: i}})
	} else {
		p.text(i, end)
	}
	return end
}

// ValidLink reports whether raw may be a link's href: it parses, as http
// or https with a host and no user name or password (which would let
// "https://bank.example@evil.example" pass for a bank's address).
func ValidLink(raw string) bool {
	if schemeLen(raw) == 0 {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Opaque == "" && u.User == nil && u.Hostname() != ""
}

// schemeLen is the length of the http:// or https:// (in any case) that
// s starts with, 0 when it starts with neither.
func schemeLen(s string) int {
	for _, p := range []string{"http://", "https://"} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return len(p)
		}
	}
	return 0
}

// urlStop reports whether r ends a URL: space, controls and invisible
// format characters, and what cannot be in a URL unescaped.
func urlStop(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) ||
		strings.ContainsRune("<>\"`\\", r) || r == utf8.RuneError
}

// trimURL is the length of u without trailing punctuation that more
// likely ends the sentence than the URL, and closing brackets without an
// opening one in the URL ("(see https://example.com/x)").
func trimURL(u string) int {
	opens := [2]int{strings.Count(u, "("), strings.Count(u, "[")}
	closes := [2]int{strings.Count(u, ")"), strings.Count(u, "]")}
	end := len(u)
	for end > 0 {
		c := u[end-1]
		switch b := strings.IndexByte(")]", c); {
		case b >= 0 && closes[b] > opens[b]:
			closes[b]--
		case b < 0 && strings.IndexByte(".,:;!?'\"*_~", c) >= 0:
		default:
			return end
		}
		end--
	}
	return end
}

// maxLinkLabel is the most characters a link shows of its URL.
const maxLinkLabel = 60

// LinkLabel is what a link shows: its URL, or when that is longer than
// maxLinkLabel, its host and the start of its path cut with "…" (short
// reports that, so the whole URL can go in a title).
func LinkLabel(u string) (label string, short bool) {
	if utf8.RuneCountInString(u) <= maxLinkLabel {
		return u, false
	}
	rest := u[schemeLen(u):]
	host := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host = rest[:i]
	}
	keep := max(maxLinkLabel*2/3, utf8.RuneCountInString(host)+1)
	cut := len(rest)
	for n := range rest {
		if keep == 0 {
			cut = n
			break
		}
		keep--
	}
	return rest[:cut] + "…", true
}

// special reports whether c may start something other than text.
func special(c byte) bool { return c == '`' || c == '*' || c == '_' || c == 'h' || c == 'H' }

func runLen(s string, c byte) int {
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	return n
}

func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

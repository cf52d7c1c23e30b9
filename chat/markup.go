package chat

import "strings"

// NodeKind is what a piece of a formatted message body is.
type NodeKind uint8

// The formatting a message body may carry: a deliberately small subset of
// Markdown, so that what a person types reads the same as text and only
// these few constructs change how it looks.
const (
	NodeText      NodeKind = iota // plain text (mentions are found in it)
	NodeCode                      // `code span`
	NodeEm                        // *emphasis* or _emphasis_
	NodeStrong                    // **strong** or __strong__
	NodeLink                      // an http or https URL
	NodeQuote                     // consecutive "> " lines
	NodeCodeBlock                 // lines between ``` fences
)

// Node is one piece of a parsed body. Text is the text of NodeText,
// NodeCode and NodeCodeBlock, and the URL of a NodeLink: exactly the
// validated string, to be used as the link's href.
type Node struct {
	Kind NodeKind
	Text string
	// Start is where a NodeText's Text begins in the body: the body's
	// @mentions are found in the whole body, then marked by offset.
	Start    int
	Lang     string // NodeCodeBlock: its fence's language tag, when [a-z0-9-]+
	Children []Node // NodeEm, NodeStrong, NodeQuote
}

// ParseMarkup parses a message body into nodes. It never fails: a marker
// without its partner stays text. It takes time linear in the body's
// length, whatever the body holds. Line breaks stay in the text, except
// the one ending a line before or after a quote or code block, which the
// block itself breaks.
func ParseMarkup(body string) []Node {
	if body == "" {
		return nil
	}
	if plain(body) && body[0] != '>' && !strings.Contains(body, "\n>") {
		return []Node{{Kind: NodeText, Text: body}} // most messages: no markup at all
	}
	p := parser{body: body}
	return p.parse()
}

// parser parses one body. steps counts its work: each line, token and
// byte it looks at, which the tests hold to a bound linear in the body.
type parser struct {
	body  string
	steps int
}

func (p *parser) parse() []Node {
	body := p.body
	lines := splitLines(body)
	p.steps += len(lines)
	lastFence := -1 // the last bare ``` line: an opening fence after it is never closed
	for i, l := range lines {
		if bareFence(l.text) {
			lastFence = i
		}
	}
	var out []Node
	para := -1 // first line of the text lines not yet emitted
	flush := func(end int) {
		if para >= 0 {
			out = p.appendLines(out, lines[para:end], 0)
			para = -1
		}
	}
	for i := 0; i < len(lines); {
		p.steps++
		l := lines[i]
		if info, ok := fence(l.text); ok && i < lastFence {
			j := i + 1
			for !bareFence(lines[j].text) {
				p.steps++
				j++
			}
			flush(i)
			code := ""
			if j > i+1 {
				code = body[lines[i+1].start : lines[j-1].start+len(lines[j-1].text)]
			}
			out = append(out, Node{Kind: NodeCodeBlock, Text: code, Lang: fenceLang(info)})
			i = j + 1
			continue
		}
		if quoted(l.text) {
			j := i
			for j < len(lines) && quoted(lines[j].text) {
				p.steps++
				j++
			}
			flush(i)
			out = append(out, Node{Kind: NodeQuote, Children: p.appendLines(nil, lines[i:j], 1)})
			i = j
			continue
		}
		if para < 0 {
			para = i
		}
		i++
	}
	flush(len(lines))
	return out
}

// line is one line of a body, without its newline, and where it starts.
type line struct {
	text  string
	start int
}

func splitLines(body string) []line {
	var ls []line
	start := 0
	for {
		i := strings.IndexByte(body[start:], '\n')
		if i < 0 {
			return append(ls, line{body[start:], start})
		}
		ls = append(ls, line{body[start : start+i], start})
		start += i + 1
	}
}

// appendLines parses each line's inline markup, after cutting prefix bytes
// ("> " of a quote, with its optional space), joined by their newlines.
func (p *parser) appendLines(out []Node, ls []line, prefix int) []Node {
	for k, l := range ls {
		if k > 0 {
			out = appendText(out, p.body, l.start-1, l.start)
		}
		start := l.start
		if prefix > 0 {
			start++
			if len(l.text) > 1 && l.text[1] == ' ' {
				start++
			}
		}
		end := l.start + len(l.text)
		if plain(p.body[start:end]) {
			out = appendText(out, p.body, start, end)
		} else {
			out = p.inline(out, start, end)
		}
	}
	return out
}

// appendText adds body[start:end] as text, merged into the text before it
// when the two are adjacent in the body, so that a mention is never split
// between two nodes (and merging costs no copy).
func appendText(out []Node, body string, start, end int) []Node {
	if start == end {
		return out
	}
	if n := len(out); n > 0 && out[n-1].Kind == NodeText && out[n-1].Start+len(out[n-1].Text) == start {
		out[n-1].Text = body[out[n-1].Start:end]
		return out
	}
	return append(out, Node{Kind: NodeText, Text: body[start:end], Start: start})
}

// plain reports whether s cannot hold inline markup, which most lines
// cannot: they need no further parsing.
func plain(s string) bool { return !strings.ContainsAny(s, "`*_") && !strings.Contains(s, "://") }

func quoted(s string) bool { return strings.HasPrefix(s, ">") }

// fence reports whether s is a code fence line: ``` and an info string
// without backticks (which would make it inline code instead).
func fence(s string) (info string, ok bool) {
	rest, ok := strings.CutPrefix(s, "```")
	if !ok || strings.Contains(rest, "`") {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

func bareFence(s string) bool {
	info, ok := fence(s)
	return ok && info == ""
}

// fenceLang keeps a fence's language tag only when it is safe as a class
// name as it is; anything else is ignored.
func fenceLang(info string) string {
	if info == "" || len(info) > 32 {
		return ""
	}
	for i := 0; i < len(info); i++ {
		if c := info[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return ""
		}
	}
	return info
}

// MarkupText is the text parsed nodes show, markers left out and long
// links shortened: what a reader sees and copies.
func MarkupText(nodes []Node) string {
	var b strings.Builder
	writeText(&b, nodes)
	return b.String()
}

func writeText(b *strings.Builder, nodes []Node) {
	for _, n := range nodes {
		switch n.Kind {
		case NodeLink:
			label, _ := LinkLabel(n.Text)
			b.WriteString(label)
		case NodeEm, NodeStrong, NodeQuote:
			writeText(b, n.Children)
		default:
			b.WriteString(n.Text)
		}
	}
}

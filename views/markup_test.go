package views

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/attack"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

func textMessage(body string, mentions ...chat.Mention) chat.Message {
	return chat.Message{ID: 5, RoomID: 2, AuthorID: 1, Author: "ann", Kind: chat.KindText, Sent: time.Unix(0, 0), Body: body, Mentions: mentions}
}

// Each construct as the fragment carries it, the same bytes for every
// reader: line breaks stay text (the body is white-space: pre-wrap), except
// those a block element breaks itself.
func TestFormattedBody(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("long/", 12)
	m := textMessage("see https://example.com/a?b=1&c=2. *em* **strong** `x <y>`\nnext line\n> quoted _em_\n```go\nif a < b {\n}\n```\n```\nplain\n```\n" + long)
	want := `<div class="body" dir="auto">see ` +
		`<a href="https://example.com/a?b=1&amp;c=2" rel="noopener nofollow ugc" target="_blank">https://example.com/a?b=1&amp;c=2</a>. ` +
		`<em>em</em> <strong>strong</strong> <code>x &lt;y&gt;</code>` + "\nnext line" +
		`<blockquote>quoted <em>em</em></blockquote>` +
		`<pre><code class="language-go">if a &lt; b {` + "\n}" + `</code></pre>` +
		`<pre><code>plain</code></pre>` +
		`<a href="` + long + `" rel="noopener nofollow ugc" target="_blank" title="` + long + `">example.com/long/long/long/long/long/lon…</a></div>`
	if out := render(t, MessageEvent(m)); !strings.Contains(out, want) {
		t.Errorf("fragment:\n%s\nwant its body:\n%s", out, want)
	}
	// A body without markup renders as before: escaped text, nothing else.
	plain := textMessage("just <text>\nover two lines")
	mustHave(t, render(t, MessageEvent(plain)), `<div class="body" dir="auto">just &lt;text&gt;`+"\nover two lines</div>")
}

// Mentions are marked wherever text is, inside emphasis and quotes too,
// and never inside code or a link.
func TestMentionsInFormattedText(t *testing.T) {
	m := textMessage("*hi @bob* **@bob** `@bob`\n> @bob said\n```\n@bob\n```\nhttps://example.com/@bob _@bob_",
		chat.Mention{UserID: 3, Name: "bob"})
	out := render(t, MessageEvent(m))
	mustHave(t, out,
		`<em>hi <span class="mention">@bob</span></em>`,
		`<strong><span class="mention">@bob</span></strong>`,
		`<code>@bob</code>`,
		`<blockquote><span class="mention">@bob</span> said</blockquote>`,
		`<pre><code>@bob</code></pre>`,
		`<a href="https://example.com/@bob" rel="noopener nofollow ugc" target="_blank">https://example.com/@bob</a>`,
		`<em>@bob</em>`, // "_@bob" is no mention, as before formatting
	)
	if n := strings.Count(out, `class="mention"`); n != 3 {
		t.Errorf("%d mentions marked, want 3:\n%s", n, out)
	}
}

// Every hostile payload, plain and inside every construct, renders to
// the allowed elements and attributes only, and reads as the parser says.
func TestHostileTextInEveryConstruct(t *testing.T) {
	for _, p := range append(slices.Clone(attack.XSS), attack.SSE...) {
		clean, err := chat.CleanMessage(p)
		if err != nil {
			t.Fatalf("payload %q refused: %v", p, err)
		}
		if got := checkBody(t, clean); got != clean {
			t.Errorf("plain payload reads %q, want %q", got, clean)
		}
		formatted, err := chat.CleanMessage(attack.Formatted(p))
		if err != nil {
			t.Fatalf("formatted payload %q refused: %v", p, err)
		}
		checkBody(t, formatted)
		if strings.ContainsAny(p, "\r\n") {
			continue // spans and emphasis stay on one line
		}
		out := render(t, MessageEvent(textMessage(formatted)))
		mustHave(t, out, "<a href=", "<code>", "<em>", "<strong>", "<blockquote>", "<pre><code>")
	}
}

// FuzzMarkup renders any body a user could post and checks the fragment
// as a browser would parse it: only the formatting's elements and
// attributes, links that are http or https, no script, no handler, and
// the text the parser says.
func FuzzMarkup(f *testing.F) {
	for _, p := range append(slices.Clone(attack.XSS), attack.SSE...) {
		f.Add(attack.Formatted(p))
	}
	for _, s := range []string{"*a* _b_ **c** __d__ `e`", "> q *@bob*\n```js\nx\n```", "https://example.com/(x)).", "http://a@b https://例子.测试/ ｈttps://x", strings.Repeat("*`_", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		clean, err := chat.CleanMessage(body)
		if err != nil {
			return // refused at the door; never rendered
		}
		checkBody(t, clean)
	})
}

var (
	languageClass = regexp.MustCompile(`^language-[a-z0-9-]+$`)
	onAttribute   = regexp.MustCompile(`(?i)<[^>]*\son[a-z]*\s*=`)
)

// checkBody renders body as a message (mentioning @bob) and checks what a
// browser would make of it; it returns the body's text.
func checkBody(t *testing.T, body string) string {
	t.Helper()
	out := render(t, MessageEvent(textMessage(body, chat.Mention{UserID: 3, Name: "bob"})))
	low := strings.ToLower(out)
	if strings.Contains(low, "<script") || onAttribute.MatchString(out) {
		t.Fatalf("raw markup in\n%s", out)
	}
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(out), ctx)
	if err != nil {
		t.Fatal(err)
	}
	var div *html.Node
	for _, n := range nodes {
		for d := range n.Descendants() {
			if d.Type == html.ElementNode && d.Data == "div" && attr(d, "class") == "body" {
				div = d
			}
			for _, a := range d.Attr {
				if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
					t.Fatalf("attribute %s=%q in\n%s", a.Key, a.Val, out)
				}
			}
		}
	}
	if div == nil {
		t.Fatalf("no body in\n%s", out)
	}
	for d := range div.Descendants() {
		if d.Type == html.ElementNode {
			checkElement(t, d, out)
		}
	}
	text := textOf(div)
	if want := chat.MarkupText(chat.ParseMarkup(body)); text != want {
		t.Fatalf("body reads %q, want %q\n%s", text, want, out)
	}
	return text
}

// checkElement allows the formatting's elements with their fixed
// attributes, and nothing else.
func checkElement(t *testing.T, d *html.Node, out string) {
	t.Helper()
	allowed := map[string][]string{"span": {"class"}, "em": nil, "strong": nil, "code": {"class"}, "blockquote": nil, "pre": nil, "a": {"href", "rel", "target", "title"}}
	keys, ok := allowed[d.Data]
	if !ok {
		t.Fatalf("element %s in\n%s", d.Data, out)
	}
	for _, a := range d.Attr {
		if !slices.Contains(keys, a.Key) {
			t.Fatalf("attribute %s on %s in\n%s", a.Key, d.Data, out)
		}
	}
	switch d.Data {
	case "span":
		if attr(d, "class") != "mention" {
			t.Fatalf("span %v in\n%s", d.Attr, out)
		}
	case "code":
		if c := attr(d, "class"); c != "" && (!languageClass.MatchString(c) || d.Parent.Data != "pre") {
			t.Fatalf("code class %q in\n%s", c, out)
		}
	case "a":
		href := attr(d, "href")
		if !chat.ValidLink(href) || attr(d, "rel") != "noopener nofollow ugc" || attr(d, "target") != "_blank" {
			t.Fatalf("link %v in\n%s", d.Attr, out)
		}
		if title := attr(d, "title"); title != "" && title != href {
			t.Fatalf("link titled %q for %q", title, href)
		}
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

package chat

import (
	"strings"
	"testing"
)

// show writes nodes as tags, for tables that read at a glance: text as
// it is, then <code>, <em>, <strong>, <a>, <q> and <pre lang>.
func show(ns []Node) string {
	var b strings.Builder
	for _, n := range ns {
		switch n.Kind {
		case NodeText:
			b.WriteString(n.Text)
		case NodeCode:
			b.WriteString("<code>" + n.Text + "</code>")
		case NodeEm:
			b.WriteString("<em>" + show(n.Children) + "</em>")
		case NodeStrong:
			b.WriteString("<strong>" + show(n.Children) + "</strong>")
		case NodeLink:
			b.WriteString("<a>" + n.Text + "</a>")
		case NodeQuote:
			b.WriteString("<q>" + show(n.Children) + "</q>")
		case NodeCodeBlock:
			b.WriteString("<pre " + n.Lang + ">" + n.Text + "</pre>")
		}
	}
	return b.String()
}

func TestParseMarkup(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"two\nlines\n\nand a gap", "two\nlines\n\nand a gap"},

		// Code spans.
		{"a `code` b", "a <code>code</code> b"},
		{"``a`b``", "<code>a`b</code>"},
		{"`` `tick` ``", "<code>`tick`</code>"},
		{"` `", "<code> </code>"},
		{"`unclosed", "`unclosed"},
		{"``two` one", "``two` one"},
		{"`*no* _em_ https://x.example @bob`", "<code>*no* _em_ https://x.example @bob</code>"},
		{"`<b>&amp;</b>`", "<code><b>&amp;</b></code>"},
		{"`a\nb`", "`a\nb`"}, // a span stays on its line

		// Emphasis and strong.
		{"*em* _em_ **strong** __strong__", "<em>em</em> <em>em</em> <strong>strong</strong> <strong>strong</strong>"},
		{"**bold *and em* too**", "<strong>bold <em>and em</em> too</strong>"},
		{"*em **strong** em*", "<em>em <strong>strong</strong> em</em>"},
		{"_a *b* c_", "<em>a <em>b</em> c</em>"},
		{"*(parens)*.", "<em>(parens)</em>."},
		{"*unclosed", "*unclosed"},
		{"unopened*", "unopened*"},
		{"**half*", "**half*"},
		{"a * b * c", "a * b * c"},
		{"2*3*4 and {{7*7}}", "2*3*4 and {{7*7}}"},
		{"snake_case_name __init__x", "snake_case_name __init__x"},
		{"***three***", "***three***"},
		{"****", "****"},
		{"*a *b* c*", "<em>a *b</em> c*"}, // a kind does not nest in itself
		{"*a\nb*", "*a\nb*"},              // nor spans lines
		{"*a `*` b*", "<em>a <code>*</code> b</em>"},
		{"**a *b** c*", "<strong>a *b</strong> c*"},
		{"_é_ x_é_", "<em>é</em> x_é_"},

		// Quotes.
		{"> quoted", "<q>quoted</q>"},
		{">no space", "<q>no space</q>"},
		{"before\n> one\n> *two*\nafter", "before<q>one\n<em>two</em></q>after"},
		{"> a\n\n> b", "<q>a</q><q>b</q>"}, // a blank line alone between blocks adds nothing
		{">", "<q></q>"},
		{"a > b", "a > b"},
		{"> > nested", "<q>> nested</q>"},

		// Fenced code blocks.
		{"```\ncode *x*\n```", "<pre >code *x*</pre>"},
		{"```go\nfmt.Println()\n\tx\n```\nafter", "<pre go>fmt.Println()\n\tx</pre>after"},
		{"before\n```\n```", "before<pre ></pre>"},
		{"```c++\nx\n```", "<pre >x</pre>"},
		{"```a-1 b\nx\n```", "<pre >x</pre>"},
		{"```\"><script>\nx\n```", "<pre >x</pre>"},
		{"```Go\nx\n```", "<pre >x</pre>"},
		{"```\nunclosed *em*", "```\nunclosed <em>em</em>"},
		{"```go\n```go\nx\n```", "<pre go>```go\nx</pre>"},
		{"```\na\n```\n```\nb", "<pre >a</pre>```\nb"},
		{"```inline```", "<code>inline</code>"},
		{"> ```\n> x\n> ```", "<q>```\nx\n```</q>"},

		// Links.
		{"see https://example.com", "see <a>https://example.com</a>"},
		{"http://example.com/a?b=c&d=e#f", "<a>http://example.com/a?b=c&d=e#f</a>"},
		{"HTTPS://Example.com/X", "<a>HTTPS://Example.com/X</a>"},
		{"https://example.com.", "<a>https://example.com</a>."},
		{"https://example.com/x, and", "<a>https://example.com/x</a>, and"},
		{"https://example.com/x?!:;'\"", "<a>https://example.com/x</a>?!:;'\""},
		{"(https://example.com/x)", "(<a>https://example.com/x</a>)"},
		{"https://en.example.org/wiki/Go_(language))", "<a>https://en.example.org/wiki/Go_(language)</a>)"},
		{"[https://example.com/a]", "[<a>https://example.com/a</a>]"},
		{"*https://example.com*", "<em><a>https://example.com</a></em>"},
		{"_https://example.com/a_b_", "<em><a>https://example.com/a_b</a></em>"},
		{"https://example.com/a*b*c", "<a>https://example.com/a*b*c</a>"},
		{"<https://example.com>", "<<a>https://example.com</a>>"},
		{`"https://example.com/"x`, `"<a>https://example.com/</a>"x`},
		{"https://example.com/`code`", "<a>https://example.com/</a><code>code</code>"},
		{"https://bücher.example/straße?q=ü", "<a>https://bücher.example/straße?q=ü</a>"},
		{"https://例子.测试/路径", "<a>https://例子.测试/路径</a>"},
		{"https://xn--bcher-kva.example/", "<a>https://xn--bcher-kva.example/</a>"},
		{"http://[::1]:8080/x", "<a>http://[::1]:8080/x</a>"},
		{"http://127.0.0.1:8080", "<a>http://127.0.0.1:8080</a>"},
		{"a\u00a0https://example.com\u00a0b", "a\u00a0<a>https://example.com</a>\u00a0b"},
		{"http://exa mple.com", "<a>http://exa</a> mple.com"},
		{"https://exa\u200bmple.com", "<a>https://exa</a>\u200bmple.com"},
		{"https://example.com/\u202eevil", "<a>https://example.com/</a>\u202eevil"},
		{"https://a.example https://b.example", "<a>https://a.example</a> <a>https://b.example</a>"},
		{"x\nhttps://example.com\ny", "x\n<a>https://example.com</a>\ny"},
	} {
		if got := show(ParseMarkup(c.in)); got != c.want {
			t.Errorf("ParseMarkup(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// Nothing but a well-formed http or https URL with a host becomes a link;
// everything here stays text exactly as written.
func TestNotLinks(t *testing.T) {
	for _, in := range []string{
		"javascript:alert(1)",
		"JaVaScRiPt:alert(1)",
		"javascript://example.com/%0aalert(1)",
		"javascript\u200b:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"data:text/html;base64,PHNjcmlwdD4=",
		"vbscript:msgbox(1)",
		"file:///etc/passwd",
		"ftp://example.com/",
		"mailto:a@example.com",
		"//example.com/x",
		"ｈｔｔｐｓ://example.com",
		"hxxp://example.com",
		"hxxps://example.com",
		"http:example.com",
		"http:/example.com",
		"http://",
		"https://",
		"http:///path",
		"http://:80/x",
		"http://user@example.com/",
		"https://user:pass@example.com/",
		"https://bank.example@evil.example/",
		"https://@example.com",
		"http://ex{a}mple.com",
		"http://%65vil.example/",
		"http://example.com/%zz",
		"http://example.com:port/",
		"xhttp://example.com",
		"ahttps://example.com",
		"éhttps://example.com",
		"5http://example.com",
		"http://.",
	} {
		for _, n := range ParseMarkup(in) {
			if n.Kind != NodeText || n.Text != in {
				t.Errorf("%q parsed as %q", in, show(ParseMarkup(in)))
				break
			}
		}
	}
}

func TestLinkLabel(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("path/", 20) + "?q=1"
	for _, c := range []struct {
		url, label string
		short      bool
	}{
		{"https://example.com/a", "https://example.com/a", false},
		{"https://example.com/" + strings.Repeat("x", 40), "https://example.com/" + strings.Repeat("x", 40), false},
		{long, "example.com/path/path/path/path/path/pat…", true},
		{"https://" + strings.Repeat("sub.", 15) + "example.com/x/y/z", strings.Repeat("sub.", 15) + "example.com/…", true},
		{"https://例子.测试/" + strings.Repeat("路径", 40), "例子.测试/" + strings.Repeat("路径", 17) + "…", true},
	} {
		label, short := LinkLabel(c.url)
		if label != c.label || short != c.short {
			t.Errorf("LinkLabel(%q) = %q, %v; want %q, %v", c.url, label, short, c.label, c.short)
		}
	}
}

// A text node's Start places it in the body: mentions are marked by it.
func TestMarkupTextOffsets(t *testing.T) {
	body := "> *hi* @bob\n`x` @ann **@cy**\n```\n@no\n```\nend"
	var walk func([]Node)
	seen := 0
	walk = func(ns []Node) {
		for _, n := range ns {
			if n.Kind == NodeText {
				seen++
				if body[n.Start:n.Start+len(n.Text)] != n.Text {
					t.Errorf("text %q at %d reads %q in the body", n.Text, n.Start, body[n.Start:n.Start+len(n.Text)])
				}
			}
			walk(n.Children)
		}
	}
	walk(ParseMarkup(body))
	if seen != 5 {
		t.Errorf("%d text nodes, want 5", seen)
	}
}

// Hostile bodies cost work linear in their length: every loop of the
// parser counts its steps, and none may rescan what it has passed.
func TestMarkupWorkIsLinear(t *testing.T) {
	const n = MaxMessageRunes
	rep := func(s string) string { return strings.Repeat(s, n/len(s)) }
	var ticks strings.Builder // runs of 1, 2, 3… backticks, none closed
	for k := 1; ticks.Len() < n; k++ {
		ticks.WriteString(strings.Repeat("`", k) + "x")
	}
	for name, body := range map[string]string{
		"stars":           rep("*"),
		"backticks":       rep("`"),
		"underscores":     rep("_"),
		"ticks unclosed":  ticks.String(),
		"tick pairs":      rep("`a"),
		"openers":         rep("*a "),
		"strong openers":  rep("**a "),
		"mixed openers":   rep("*a _b **c __d "),
		"closers":         rep("a* "),
		"open then close": rep("*a ") + rep("b* "),
		"interleaved":     rep("*a _b* c_ "),
		"schemes":         rep("http://"),
		"hosts":           rep("https://a"),
		"long url":        "https://example.com/" + rep("a"),
		"parens":          "https://example.com/" + rep(")"),
		"punctuation":     "https://example.com/" + rep("."),
		"fences":          rep("```a\n"),
		"bare fences":     rep("```\n"),
		"quotes":          rep("> *a\n"),
		"newlines":        rep("\n"),
		"h":               rep("h"),
	} {
		p := parser{body: body}
		p.parse()
		if p.steps > 10*len(body) {
			t.Errorf("%s: %d steps for %d bytes", name, p.steps, len(body))
		}
	}
}

// FuzzParseMarkup: any body parses, within the linear bound, into text
// nodes that are the body's own bytes at their offsets and links that
// validate.
func FuzzParseMarkup(f *testing.F) {
	for _, s := range []string{"*a* _b_ **c** `d` > e", "```go\nx\n```", "https://example.com/(x).", "> q\n```\n@bob\n```"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p := parser{body: body}
		nodes := p.parse()
		if p.steps > 10*len(body)+10 {
			t.Fatalf("%d steps for %d bytes", p.steps, len(body))
		}
		var walk func([]Node, int)
		walk = func(ns []Node, depth int) {
			if depth > 5 {
				t.Fatalf("nested %d deep", depth)
			}
			for _, n := range ns {
				switch n.Kind {
				case NodeText:
					if n.Start < 0 || n.Start+len(n.Text) > len(body) || body[n.Start:n.Start+len(n.Text)] != n.Text {
						t.Fatalf("text %q is not the body's at %d", n.Text, n.Start)
					}
				case NodeLink:
					if !ValidLink(n.Text) {
						t.Fatalf("link %q does not validate", n.Text)
					}
				case NodeCodeBlock:
					if n.Lang != fenceLang(n.Lang) {
						t.Fatalf("language %q", n.Lang)
					}
				}
				walk(n.Children, depth+1)
			}
		}
		walk(nodes, 0)
	})
}

func TestMarkupText(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", 80)
	body := "*a* **b** `c`\n> d _e_\n```go\nf\n```\n" + long
	want := "a b c" + "d e" + "f" + "example.com/" + strings.Repeat("a", 28) + "…"
	if got := MarkupText(ParseMarkup(body)); got != want {
		t.Errorf("MarkupText = %q, want %q", got, want)
	}
}

package views

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/attack"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// FuzzMessageRender renders any message a user could post, as a stream
// fragment, and parses it as a browser would: the text must come out as
// it went in (less the formatting's markers: chat.MarkupText), inside a
// fixed set of elements, whatever it holds. The body's own elements are
// FuzzMarkup's to check.
func FuzzMessageRender(f *testing.F) {
	for i, s := range append(append([]string{"hello", "multi\nline", "  padded  ", "é ü 漢字 🙂"}, attack.XSS...), attack.SSE...) {
		f.Add(s, i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, body string, announcement bool) {
		clean, err := chat.CleanMessage(body)
		if err != nil {
			return // refused at the door; never rendered
		}
		m := chat.Message{ID: 12, RoomID: 3, AuthorID: 4, Author: "fuzzer", Kind: chat.KindText, Body: clean, Sent: time.Unix(1e9, 0)}
		want := []string{"hx-upsert", "li", "div", "strong", "time", "a", "div"}
		if announcement {
			m.Kind = chat.KindAnnouncement
			want = []string{"hx-upsert", "li", "div", "span", "strong", "time", "a", "div"}
		}
		var buf bytes.Buffer
		if err := MessageEvent(m).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		elements, text := parseFragment(t, buf.String())
		if len(elements) < len(want) || strings.Join(elements[:len(want)], " ") != strings.Join(want, " ") {
			t.Fatalf("elements %v, want %v\n%s", elements, want, buf.String())
		}
		if in := chat.MarkupText(chat.ParseMarkup(clean)); text != in {
			t.Fatalf("text out %q, in %q", text, in)
		}
	})
}

// parseFragment returns the element names in document order and the text
// of the message body.
func parseFragment(t *testing.T, s string) (elements []string, body string) {
	t.Helper()
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		for d := range n.Descendants() {
			if d.Type != html.ElementNode {
				continue
			}
			elements = append(elements, d.Data)
			for _, a := range d.Attr {
				if a.Key == "class" && a.Val == "body" {
					for c := range d.Descendants() {
						if c.Type == html.TextNode {
							body += c.Data
						}
					}
				}
			}
		}
		if n.Type == html.ElementNode {
			elements = append([]string{n.Data}, elements...)
		}
	}
	return elements, body
}

// No template may bypass escaping.
func TestNoRawHTMLInViews(t *testing.T) {
	files, _ := filepath.Glob("*.templ")
	gen, _ := filepath.Glob("*_templ.go")
	for _, name := range append(files, gen...) {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(src, []byte("templ.Raw")) || bytes.Contains(src, []byte("@templ.Raw")) {
			t.Errorf("%s uses templ.Raw", name)
		}
	}
	if len(files) == 0 {
		t.Fatal("no templates found")
	}
}

package e2e

import (
	"compress/gzip"
	"context"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/browsertest"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// NoJS is one person's w3m on the server under test: a browser that runs
// no script, for what must work with JavaScript off. Its cookies live in a
// home directory of its own, so each NoJS is a different person.
type NoJS struct {
	T    *testing.T
	URL  string // the server's base URL
	w3m  string
	home string
}

// OpenNoJS starts a person with w3m (see browsertest.W3M: without it the
// test skips or, where nothing may skip, fails).
func OpenNoJS(t *testing.T, s *Server) NoJS {
	t.Helper()
	return NoJS{T: t, URL: s.URL, w3m: browsertest.W3M(t), home: t.TempDir()}
}

// run runs w3m with args after the options every call takes: keep cookies
// (in the person's home), and wide lines so that text is not wrapped.
func (n NoJS) run(args ...string) string {
	n.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	args = append([]string{"-o", "accept_cookie=1", "-o", "use_cookie=1", "-o", "accept_bad_cookie=1", "-cols", "200"}, args...)
	cmd := exec.CommandContext(ctx, n.w3m, args...)
	cmd.Env = append(os.Environ(), "HOME="+n.home)
	cmd.Dir = n.home
	out, err := cmd.Output()
	if err != nil {
		n.T.Fatalf("w3m %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Dump returns the text of the page at path, after any redirects.
func (n NoJS) Dump(path string) string {
	n.T.Helper()
	return n.run("-dump", n.URL+path)
}

// Source returns the HTML of the page at path, after any redirects.
func (n NoJS) Source(path string) string {
	n.T.Helper()
	return n.source(n.run("-dump_source", n.URL+path))
}

// source undoes the gzip that w3m asks for and -dump_source leaves on.
func (n NoJS) source(raw string) string {
	n.T.Helper()
	if !strings.HasPrefix(raw, "\x1f\x8b") {
		return raw
	}
	zr, err := gzip.NewReader(strings.NewReader(raw))
	if err != nil {
		n.T.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		n.T.Fatal(err)
	}
	return string(b)
}

// Submit loads the page at path, fills the form whose submit button reads
// button with fields (the rest as the page set them: hidden fields, typed
// values), sends it as w3m sends a form, and returns the text of the page
// the server answers with, after any redirects.
func (n NoJS) Submit(path, button string, fields map[string]string) string {
	n.T.Helper()
	return n.submit(path, button, fields, "-dump")
}

// SubmitSource is Submit returning the answer's HTML instead of its text.
func (n NoJS) SubmitSource(path, button string, fields map[string]string) string {
	n.T.Helper()
	return n.source(n.submit(path, button, fields, "-dump_source"))
}

func (n NoJS) submit(path, button string, fields map[string]string, dump string) string {
	n.T.Helper()
	doc, err := html.Parse(strings.NewReader(n.Source(path)))
	if err != nil {
		n.T.Fatal(err)
	}
	form, values := findForm(doc, button)
	if form == nil {
		n.T.Fatalf("no form with a %q button on %s\n%s", button, path, n.Dump(path))
	}
	for k, v := range fields {
		values.Set(k, v)
	}
	action := attr(form, "action")
	if strings.ToLower(attr(form, "method")) != "post" {
		return n.run(dump, n.URL+action+"?"+values.Encode())
	}
	body := filepath.Join(n.home, "form-body")
	if err := os.WriteFile(body, []byte(values.Encode()), 0o600); err != nil {
		n.T.Fatal(err)
	}
	return n.run("-post", body, dump, n.URL+action)
}

// findForm returns the form holding a submit button whose text contains
// button, and the values it would send (the button's own included).
func findForm(doc *html.Node, button string) (*html.Node, url.Values) {
	var found *html.Node
	var walk func(*html.Node, *html.Node)
	walk = func(node, form *html.Node) {
		if node.DataAtom == atom.Form {
			form = node
		}
		if found == nil && form != nil && node.DataAtom == atom.Button && attr(node, "type") != "button" &&
			strings.Contains(strings.Join(strings.Fields(text(node)), " "), button) {
			found = form
		}
		for c := node.FirstChild; c != nil; c = c.NextSibling {
			walk(c, form)
		}
	}
	walk(doc, nil)
	if found == nil {
		return nil, nil
	}
	values := url.Values{}
	collect(found, values, button)
	return found, values
}

// collect gathers what a form sends: named inputs (checked ones only, of
// checkboxes and radios), text areas, selects' chosen options, and the
// submit button pressed.
func collect(node *html.Node, values url.Values, button string) {
	name := attr(node, "name")
	switch {
	case name == "":
	case node.DataAtom == atom.Input:
		typ := strings.ToLower(attr(node, "type"))
		_, checked := attrOK(node, "checked")
		if (typ != "checkbox" && typ != "radio" && typ != "submit") || checked {
			values.Add(name, attr(node, "value"))
		}
	case node.DataAtom == atom.Textarea:
		values.Add(name, text(node))
	case node.DataAtom == atom.Select:
		values.Add(name, chosen(node))
	case node.DataAtom == atom.Button && strings.Contains(text(node), button):
		values.Add(name, attr(node, "value"))
	}
	for c := node.FirstChild; c != nil; c = c.NextSibling {
		collect(c, values, button)
	}
}

// chosen is the value a select sends: its selected option, or its first.
func chosen(sel *html.Node) string {
	var first, picked *html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.DataAtom == atom.Option {
			if first == nil {
				first = n
			}
			if _, ok := attrOK(n, "selected"); ok && picked == nil {
				picked = n
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(sel)
	if picked == nil {
		picked = first
	}
	if picked == nil {
		return ""
	}
	if v, ok := attrOK(picked, "value"); ok {
		return v
	}
	return text(picked)
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

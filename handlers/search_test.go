package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/attack"
	"golang.org/x/net/html"
)

func TestSearchFindsWhatMembersMayRead(t *testing.T) {
	a := newApp(t)
	ann, ben := a.signup("ann"), a.signup("ben")
	lobby := ann.createRoom("lobby")
	ben.post(fmt.Sprintf("/rooms/%d/join", lobby), nil, nil)
	m, err := a.store.PostMessage(t.Context(), lobby, ann.user(), "the deploy is done", "")
	if err != nil {
		t.Fatal(err)
	}
	res := ben.get("/search?q=Deploy", nil)
	link := fmt.Sprintf(`href="/rooms/%d/messages/%d#msg-%d"`, lobby, m.ID, m.ID)
	mustContain(t, res.body, "the <mark>deploy</mark> is done", link, `<a class="browse" href="/search">Search</a>`)
	if res := ben.get(fmt.Sprintf("/search?q=deploy&author=ben&room=%d", lobby), nil); strings.Contains(res.body, "<mark>") || !strings.Contains(res.body, "Nothing found") {
		t.Errorf("by ben: %d\n%s", res.status, res.body)
	}
	ben.post(fmt.Sprintf("/rooms/%d/leave", lobby), nil, nil)
	if res := ben.get("/search?q=deploy", nil); strings.Contains(res.body, "deploy</mark>") {
		t.Error("found in a room ben left")
	}
	if res := ben.get(fmt.Sprintf("/search?q=deploy&room=%d", lobby), nil); res.status != http.StatusNotFound {
		t.Errorf("a room ben left, asked for: %d", res.status)
	}
}

func TestSearchSaysWhatIsWrongWithTheForm(t *testing.T) {
	a := newApp(t)
	ann := a.signup("ann")
	if res := ann.get("/search", nil); res.status != http.StatusOK || strings.Contains(res.body, `role="alert"`) {
		t.Errorf("the empty form: %d\n%s", res.status, res.body)
	}
	for q, want := range map[string]string{
		"q=":                                    "Type a word to search for.",
		"q=" + strings.Repeat("x", 201):         "The search is too long",
		"q=%22*%22":                             "Type a word to search for.",
		"q=x&before=yesterday":                  "Give the date as YYYY-MM-DD.",
		"q=x&room=lobby":                        "Pick a room from the list.",
		"q=x&page=0":                            "Pages go from 1 to",
		"q=" + url.QueryEscape(`a" OR "b NEAR`): "Nothing found",
		"q=%FF%00x":                             "Search is not valid UTF-8 text.",
		"q=x%00y":                               "Search contains a control character (U+0000).",
		"q=x&author=" + strings.Repeat("z", 33): "Author is too long",
		"q=x&author=%FF":                        "Author is not valid UTF-8 text.",
	} {
		res := ann.get("/search?"+q, nil)
		if !strings.Contains(res.body, want) {
			t.Errorf("%.40s: %d, want %q\n%.2000s", q, res.status, want, res.body)
		}
	}
}

// Every XSS payload, found by search, comes back as text: the results
// hold no element or attribute but the page's own, and each payload's
// words are marked only by the page's own <mark>.
func TestSearchSnippetsAreEscaped(t *testing.T) {
	a := newApp(t)
	ann := a.signup("ann")
	lobby := ann.createRoom("lobby")
	for _, p := range attack.XSS {
		if _, err := a.store.PostMessage(t.Context(), lobby, ann.user(), "needle "+p, ""); err != nil {
			t.Fatal(err)
		}
	}
	allowed := map[string]bool{"li": true, "div": true, "a": true, "strong": true, "time": true, "mark": true, "bdi": true}
	attrs := map[string]bool{"class": true, "href": true, "datetime": true, "dir": true}
	found := 0
	for page := 1; page <= 3; page++ {
		body := ann.get(fmt.Sprintf("/search?q=needle&page=%d", page), nil).body
		doc, err := html.Parse(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for n := range doc.Descendants() {
			if n.Type != html.ElementNode || !inResults(n) {
				continue
			}
			if !allowed[n.Data] {
				t.Errorf("page %d: a <%s> in the results", page, n.Data)
			}
			for _, at := range n.Attr {
				if !attrs[at.Key] {
					t.Errorf("page %d: attribute %s=%q in the results", page, at.Key, at.Val)
				}
			}
			if n.Data == "mark" {
				if n.FirstChild == nil || n.FirstChild.Data != "needle" {
					t.Errorf("page %d: a mark around %v", page, n.FirstChild)
				}
				found++
			}
		}
	}
	if found != len(attack.XSS) {
		t.Errorf("%d payloads found, want %d", found, len(attack.XSS))
	}
	res := ann.get("/search?q="+url.QueryEscape("script alert"), nil)
	mustContain(t, res.body, "&lt;<mark>script</mark>&gt;<mark>alert</mark>(1)&lt;/<mark>script</mark>&gt;")
}

// inResults reports whether n is inside the list of hits.
func inResults(n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		for _, at := range p.Attr {
			if at.Key == "class" && at.Val == "search-results" {
				return true
			}
		}
	}
	return false
}

// A permalink opens the room around its message, marked for the page's
// :target, with older history a click away and a way to the newest.
func TestPermalinkShowsTheRoomAroundAMessage(t *testing.T) {
	a := newApp(t)
	ann := a.signup("ann")
	lobby := ann.createRoom("lobby")
	var ids []int64
	for i := range 60 {
		m, err := a.store.PostMessage(t.Context(), lobby, ann.user(), fmt.Sprintf("message number %d", i), "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	target := ids[30]
	res := ann.get(fmt.Sprintf("/rooms/%d/messages/%d", lobby, target), nil)
	if res.status != http.StatusOK {
		t.Fatalf("%d\n%s", res.status, res.body)
	}
	mustContain(t, res.body,
		fmt.Sprintf(`id="msg-%d"`, target), "message number 30", "message number 5", "message number 55",
		fmt.Sprintf(`/rooms/%d/messages?before=%d`, lobby, ids[5]), // load older, from the first shown
		"Newer messages: jump to the latest", `id="composer"`,
		fmt.Sprintf(`<a class="more" href="/rooms/%d/messages/%d/actions"`, lobby, target))
	// The permalink itself is offered on the message's own page ("⋯"), not
	// in every message.
	if strings.Contains(res.body, `class="copy-link"`) {
		t.Error("messages carry their own copy link")
	}
	actions := ann.get(fmt.Sprintf("/rooms/%d/messages/%d/actions", lobby, target), nil)
	mustContain(t, actions.body,
		fmt.Sprintf(`<a class="copy-link" href="/rooms/%d/messages/%d#msg-%d"`, lobby, target, target))
	for _, gone := range []string{"message number 4<", "message number 56"} {
		if strings.Contains(res.body, gone) {
			t.Errorf("%q is outside the window", gone)
		}
	}
	for _, bad := range []string{"0", "x", fmt.Sprint(ids[59] + 10)} {
		if res := ann.get(fmt.Sprintf("/rooms/%d/messages/%s", lobby, bad), nil); res.status != http.StatusNotFound {
			t.Errorf("message %s: %d", bad, res.status)
		}
	}
}

package handlers

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/rtmessenger/rtmessenger/chat"
)

func TestPostMessageWithAndWithoutScript(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	id := alice.createRoom("general")
	room := fmt.Sprintf("/rooms/%d", id)

	res := alice.post(room+"/messages", url.Values{"body": {"plain form post"}}, nil)
	if res.status != http.StatusSeeOther || res.location != room {
		t.Fatalf("no-script post: %d %s", res.status, res.location)
	}
	res = alice.post(room+"/messages", url.Values{"body": {"  via htmx\r\nsecond line  "}}, htmx)
	if res.status != http.StatusOK {
		t.Fatalf("htmx post: %d %s", res.status, res.body)
	}
	// A fresh, empty composer, and the message itself for the sender's log
	// (the stream brings it too; the same id replaces itself).
	mustContain(t, res.body, `<hx-partial hx-target="#composer" hx-swap="outerHTML"><form id="composer"`,
		`placeholder="Message #general"></textarea>`, fmt.Sprintf(`<hx-upsert hx-target="#log-%d" sort>`, id), "via htmx\nsecond line</div>")
	mustNotContain(t, res.body, "<html")

	page := alice.get(room, nil).body
	mustContain(t, page, "plain form post", "via htmx\nsecond line</div>")
}

func TestBadMessagesAreRefusedAndTheTextKept(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := fmt.Sprintf("/rooms/%d", alice.createRoom("general"))
	cases := []struct {
		body   string
		status int
		says   string
	}{
		{"   ", 422, "Message is empty."},
		{strings.Repeat("é", 4001), 422, "the limit is 4000"},
		{"bad \xff byte", 422, "not valid UTF-8"},
		{"bell \a here", 422, "control character"},
	}
	for _, c := range cases {
		for _, hdr := range []http.Header{htmx, nil} {
			res := alice.post(room+"/messages", url.Values{"body": {c.body}}, hdr)
			if hdr == nil {
				// Without script the room's page shows the refusal (kept_test.go).
				if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, room+"?kept=") {
					t.Errorf("post %.20q without script: %d to %q, want 303 to the room", c.body, res.status, res.location)
					continue
				}
				res = alice.get(res.location, nil)
				res.status = c.status
			}
			if res.status != c.status || !strings.Contains(res.body, c.says) {
				t.Errorf("post %.20q (htmx %v): %d, want %d saying %q", c.body, hdr != nil, res.status, c.status, c.says)
			}
			if c.status == 422 && strings.TrimSpace(c.body) != "" && !strings.Contains(res.body, "aria-invalid") {
				t.Errorf("post %.20q: the form lost its error state", c.body)
			}
		}
	}
	res := alice.postRaw(room+"/messages", "body="+strings.Repeat("x", 70<<10), htmx)
	if res.status != http.StatusRequestEntityTooLarge || !strings.Contains(res.body, "64 KiB") {
		t.Errorf("oversized body: %d %s", res.status, res.body)
	}
	kept := alice.post(room+"/messages", url.Values{"body": {strings.Repeat("k", 4001)}}, htmx)
	mustContain(t, kept.body, strings.Repeat("k", 4001)+"</textarea>")
	if msgs, _, _ := a.store.History(t.Context(), 1, 0, 50); len(msgs) != 1 {
		t.Fatalf("refused posts were stored: %d lines", len(msgs))
	}
}

func TestMarkupInMessagesIsText(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := fmt.Sprintf("/rooms/%d", alice.createRoom("general"))
	payload := `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`
	alice.post(room+"/messages", url.Values{"body": {payload}}, nil)
	page := alice.get(room, nil).body
	mustContain(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&#34;&#39;&amp;")
	mustNotContain(t, page, "<script>alert", "<img src=x")
}

var olderLink = regexp.MustCompile(`messages\?before=(\d+)`)

func TestHistoryPagesBackwards(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	id := alice.createRoom("general")
	room := fmt.Sprintf("/rooms/%d", id)
	for i := range 120 {
		if _, err := a.store.PostMessage(t.Context(), id, alice.user(), fmt.Sprintf("message number %03d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	page := alice.get(room, nil).body
	if n := strings.Count(page, `class="msg `); n != 50 {
		t.Fatalf("room page shows %d messages, want 50", n)
	}
	mustContain(t, page, "message number 119", "message number 070", "Load older messages")
	mustNotContain(t, page, "message number 069")

	m := olderLink.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no older link")
	}
	frag := alice.get(room+"/messages?before="+m[1], htmx).body
	mustContain(t, frag, `<hx-upsert hx-target="#log-`, "message number 020", "message number 069", "Load older messages")
	mustNotContain(t, frag, "message number 070", "<html")

	m = olderLink.FindStringSubmatch(frag)
	end := alice.get(room+"/messages?before="+m[1], htmx).body
	mustContain(t, end, "message number 000", "No earlier messages.")
	mustNotContain(t, end, "Load older messages")
	last := alice.get(room+"/messages?before="+m[1], nil)
	if last.status != 200 {
		t.Fatalf("older page without script: %d", last.status)
	}
	mustContain(t, last.body, "<html", "message number 000", "joined the room", "Back to the latest messages")
	mustNotContain(t, last.body, "Even older")
	if res := alice.get(room+"/messages?before=abc", nil); res.status != 422 {
		t.Errorf("bad cursor: %d", res.status)
	}
}

func TestPagesAreGzippedForClientsThatAccept(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	id := alice.createRoom("general")
	for i := range 50 {
		if _, err := a.store.PostMessage(t.Context(), id, alice.user(), fmt.Sprintf("a typical chat message, number %d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	room := fmt.Sprintf("/rooms/%d", id)
	plain := alice.get(room, http.Header{"Accept-Encoding": {"identity"}})
	zipped := alice.get(room, http.Header{"Accept-Encoding": {"gzip"}})
	if plain.header.Get("Content-Encoding") != "" || zipped.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("encodings: %q and %q", plain.header.Get("Content-Encoding"), zipped.header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(strings.NewReader(zipped.body))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !strings.Contains(string(unzipped), "number 49") || !strings.Contains(string(unzipped), "</html>") {
		t.Fatal("the gzipped page is not the room page")
	}
	if len(zipped.body)*4 > len(plain.body) {
		t.Errorf("gzip saved too little: %d → %d bytes", len(plain.body), len(zipped.body))
	}
	t.Logf("room page with 50 messages: %d bytes, %d gzipped", len(plain.body), len(zipped.body))
}

var clientIDField = regexp.MustCompile(`name="client_id" value="([A-Za-z0-9_-]+)"`)

func TestResubmittingAPostStoresItOnce(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	id := alice.createRoom("general")
	room := fmt.Sprintf("/rooms/%d", id)
	m := clientIDField.FindStringSubmatch(alice.get(room, nil).body)
	if m == nil {
		t.Fatal("the composer carries no client_id")
	}
	form := url.Values{"body": {"only once"}, "client_id": {m[1]}}
	first := alice.post(room+"/messages", form, htmx)
	again := alice.post(room+"/messages", form, htmx)
	plain := alice.post(room+"/messages", form, nil)
	if first.status != 200 || again.status != 200 || plain.status != http.StatusSeeOther {
		t.Fatalf("statuses %d %d %d", first.status, again.status, plain.status)
	}
	next := clientIDField.FindStringSubmatch(first.body)
	if next == nil || next[1] == m[1] {
		t.Fatal("after a send the composer must carry a fresh client_id")
	}
	if n := strings.Count(alice.get(room, nil).body, "only once"); n != 1 {
		t.Fatalf("the message shows %d times", n)
	}

	// A refused post keeps its id, so fixing and resending is still safe.
	res := alice.post(room+"/messages", url.Values{"body": {strings.Repeat("x", 4001)}, "client_id": {"keep-me"}}, htmx)
	mustContain(t, res.body, `name="client_id" value="keep-me"`)
	res = alice.post(room+"/messages", url.Values{"body": {"hi"}, "client_id": {"not valid!"}}, htmx)
	if res.status != 422 || !clientIDField.MatchString(res.body) {
		t.Fatalf("bad client id: %d", res.status)
	}
}

// Fifty people posting at once share the single writer; none of them may
// see an error (SQLITE_BUSY or otherwise), and every post is stored.
func TestFiftyConcurrentPostersAllSucceed(t *testing.T) {
	a := newApp(t)
	owner := a.signup("owner")
	id := owner.createRoom("busy")
	room := fmt.Sprintf("/rooms/%d", id)
	var people []*browser
	for i := range 50 {
		b := a.signup(fmt.Sprintf("poster%02d", i))
		b.post(room+"/join", nil, nil)
		people = append(people, b)
	}
	const each = 10
	var wg sync.WaitGroup
	failures := make(chan string, 50*each)
	for _, b := range people {
		wg.Go(func() {
			for i := range each {
				res := b.post(room+"/messages", url.Values{"body": {fmt.Sprintf("%s %d", b.name, i)}, "client_id": {fmt.Sprintf("%s-%d", b.name, i)}}, htmx)
				if res.status != 200 {
					failures <- fmt.Sprintf("%s #%d: %d %s", b.name, i, res.status, res.body)
				}
			}
		})
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	msgs, _, _ := a.store.History(t.Context(), id, 0, 10000)
	texts := 0
	for _, m := range msgs {
		if m.Kind == chat.KindText {
			texts++
		}
	}
	if texts != 50*each {
		t.Fatalf("stored %d posts, want %d", texts, 50*each)
	}
}

// A post whose answer was lost did arrive; if its text is changed before
// it is sent again (same client id), the change is not dropped as though
// sent: the composer keeps it, says so, and takes a fresh id, so sending
// it once more posts it as a new message.
func TestAChangedResendIsNotLostSilently(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := roomPath(alice.createRoom("general"))
	if res := alice.post(room+"/messages", url.Values{"body": {"first version"}, "client_id": {"lost-answer"}}, htmx); res.status != 200 {
		t.Fatalf("first post: %d", res.status)
	}
	res := alice.post(room+"/messages", url.Values{"body": {"second version"}, "client_id": {"lost-answer"}}, htmx)
	if res.status != http.StatusConflict {
		t.Fatalf("changed resend: %d, want 409\n%s", res.status, res.body)
	}
	mustContain(t, res.body, "second version</textarea>", "had already arrived as first written")
	fresh := clientIDField.FindStringSubmatch(res.body)
	if fresh == nil || fresh[1] == "lost-answer" {
		t.Fatalf("the composer must take a fresh client id: %v", fresh)
	}
	if res := alice.post(room+"/messages", url.Values{"body": {"second version"}, "client_id": {fresh[1]}}, htmx); res.status != 200 {
		t.Fatalf("sent again: %d", res.status)
	}
	page := alice.get(room, nil).body
	if strings.Count(page, "first version") != 1 || strings.Count(page, "second version") != 1 {
		t.Fatal("want each version once in the room")
	}
}

package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"golang.org/x/net/html"
)

// A page without script appends a message event's list item as it is:
// LiveItem finds it, whatever the text tries, and nothing else.
func TestLiveItemIsTheMessageEventsItem(t *testing.T) {
	sent := time.Date(2026, 11, 22, 9, 5, 0, 0, time.UTC)
	hostile := "</hx-upsert><script>alert(1)</script><!-- --></li></ol></div><plaintext>"
	for _, m := range []chat.Message{
		{ID: 42, RoomID: 7, AuthorID: 3, Author: "eve", Kind: chat.KindText, Body: hostile, Sent: sent},
		{ID: 43, RoomID: 7, AuthorID: 3, Author: "eve", AuthorDisplay: hostile, Kind: chat.KindJoin, Members: 2, Sent: sent},
		{ID: 44, RoomID: 7, AuthorID: 3, Author: "eve", Kind: chat.KindText, Body: "x", Sent: sent,
			ReplyTo: &chat.Quote{ID: 42, Author: "eve", Snippet: hostile}},
	} {
		data := []byte(render(t, MessageEvent(m)))
		room, id, item, ok := LiveItem(data)
		if !ok || room != 7 || id != m.ID {
			t.Fatalf("LiveItem(%s) = %d, %d, %v", data, room, id, ok)
		}
		if !bytes.HasPrefix(item, []byte(`<li id="msg-`)) || !bytes.HasSuffix(item, []byte("</li>")) {
			t.Errorf("item is not one list item:\n%s", item)
		}
		if want := render(t, MessageItem(m)); string(item) != want {
			t.Errorf("item:\n%s\nwant the message's item:\n%s", item, want)
		}
		for _, bad := range []string{"<script", "<!--", "<plaintext", "</ol>", "hx-partial"} {
			if bytes.Contains(item, []byte(bad)) {
				t.Errorf("item holds %q:\n%s", bad, item)
			}
		}
	}
}

func TestLiveItemRefusesOtherFragments(t *testing.T) {
	m := chat.Message{ID: 42, RoomID: 7, Kind: chat.KindText, Body: "x", Sent: time.Unix(0, 0),
		Reactions: []chat.Reaction{{Emoji: "👍"}}}
	for _, data := range [][]byte{
		[]byte(render(t, ReactionsEvent(m))),
		[]byte(`<hx-upsert hx-target="#log-7" sort><li id="msg-x">`),
		[]byte(`<hx-upsert hx-target="#log-7" sort><li id="msg-1">no end`),
		[]byte(`<hx-upsert hx-target="#log-0" sort><li id="msg-1"></li></hx-upsert>`),
		[]byte(`<hx-upsert hx-target="#log-7" sort><p id="msg-1"></p></hx-upsert>`),
		[]byte(`<p id="typing-7">ann is typing…</p>`),
		nil,
	} {
		if _, _, _, ok := LiveItem(data); ok {
			t.Errorf("LiveItem took %q", data)
		}
	}
}

// The document's start is the head and the open list chunks go into;
// only a start that may retry asks to be loaded again.
func TestLiveDocStart(t *testing.T) {
	for _, retry := range []bool{true, false} {
		b, err := LiveDocStart(context.Background(), "/static/app.css", retry)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if got := strings.Contains(s, `<meta http-equiv="refresh" content="3">`); got != retry {
			t.Errorf("retry %v: refresh %v in\n%s", retry, got, s)
		}
		for _, want := range []string{`<!DOCTYPE html>`, `<link rel="stylesheet" href="/static/app.css">`, `<base target="_top">`} {
			if !strings.Contains(s, want) {
				t.Errorf("start lacks %q:\n%s", want, s)
			}
		}
		if !strings.HasSuffix(s, `<ol class="log" role="log" aria-live="polite" aria-label="New messages">`) {
			t.Errorf("start does not end in the open list:\n%s", s)
		}
	}
}

// The frame is inside noscript, and its stand-in loads the stream.
func TestLiveFrame(t *testing.T) {
	out := render(t, LiveFrame(7, 42))
	doc, err := html.Parse(strings.NewReader("<body>" + out))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "noscript" {
			// Parsed as with script on: the content is text, not a frame.
			if n.FirstChild == nil || n.FirstChild.Type != html.TextNode || !strings.Contains(n.FirstChild.Data, "<iframe") {
				t.Fatalf("noscript holds %+v", n.FirstChild)
			}
		}
	}
	for _, want := range []string{`src="/rooms/7/live?after=42"`,
		`srcdoc="&lt;meta http-equiv=&#34;refresh&#34; content=&#34;0;url=/rooms/7/live?after=42&#34;&gt;`} {
		if !strings.Contains(out, want) {
			t.Errorf("frame lacks %s:\n%s", want, out)
		}
	}
}

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

// The stream fragment is what every member receives: it must target the
// room's log, carry the stable id, and keep user text as text.
func TestMessageEventFragment(t *testing.T) {
	m := chat.Message{ID: 42, RoomID: 7, AuthorID: 3, Author: "eve", Kind: chat.KindText,
		Body: "<img src=x onerror=alert(1)>\nline two", Sent: time.Date(2026, 11, 22, 9, 5, 0, 0, time.UTC)}
	var buf bytes.Buffer
	if err := MessageEvent(m).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`<hx-upsert hx-target="#log-7" sort>`,
		`<li id="msg-42" class="msg a3" data-author="3">`,
		`<time datetime="2026-11-22T09:05:00Z">09:05 UTC</time>`,
		"&lt;img src=x onerror=alert(1)&gt;\nline two",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("fragment lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hx-partial") {
		t.Error("a text message must not touch the member count")
	}
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "img" {
			t.Fatal("message text became an element")
		}
	}
}

func TestMembershipEventUpdatesCount(t *testing.T) {
	var buf bytes.Buffer
	m := chat.Message{ID: 5, RoomID: 2, Author: "bob", Kind: chat.KindLeave, Members: 1, Sent: time.Unix(0, 0)}
	if err := MessageEvent(m).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`class="msg system"`, "bob</strong> left the room",
		`<hx-partial hx-target="#members-2" hx-swap="textContent">1 member</hx-partial>`} {
		if !strings.Contains(out, want) {
			t.Errorf("fragment lacks %q:\n%s", want, out)
		}
	}
}

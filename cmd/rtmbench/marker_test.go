package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// The generator finds each benchmark message's scheduled time (and its
// number, which tells workload 2n the node it was posted to) in the
// fragment the server renders, over SSE and the WebSocket alike: if the
// markup moves on, this fails instead of every workload reporting zero
// deliveries.
func TestMarkersFindTheScheduledTime(t *testing.T) {
	sched := time.Unix(0, 1_764_000_000_123_456_789)
	m := chat.Message{ID: 9, RoomID: 1, AuthorID: 2, Author: "u2", Kind: chat.KindText, Body: body(sched, 3), Sent: sched}
	frag := render(t, views.MessageEvent(m))
	got := readSSE(9, frag)
	if len(got) != 1 || got[0].id != 9 || got[0].kind != message || !got[0].sent.Equal(sched) || got[0].seq != 3 {
		t.Fatalf("SSE: got %+v, want message 9 sent %v, post 3", got, sched)
	}
	if d, ok := readFrame(t, 9, frag); !ok || d.kind != message || !d.sent.Equal(sched) || d.seq != 3 {
		t.Fatalf("WebSocket: got %+v (%v), want message 9 sent %v, post 3", d, ok, sched)
	}
}

// An edit re-sends the whole message, marker and all, and a reaction
// sends the reaction bar alone, each under a new event id: the generator
// must tell them from new messages, or workload 3e would count them as
// deliveries. A new message that has reactions is still a message.
func TestMarkersTellEditsAndReactions(t *testing.T) {
	posted := time.Unix(0, 1_764_000_000_123_456_789)
	edited := posted.Add(time.Second)
	m := chat.Message{ID: 9, RoomID: 1, AuthorID: 2, Author: "u2", Kind: chat.KindText, Body: body(posted, 3), Sent: posted}
	rx := []chat.Reaction{{Emoji: "👍", Users: []chat.Reactor{{ID: 3, Name: "u3"}}}}
	withEdit := m
	withEdit.Body, withEdit.Edited, withEdit.Changed = body(edited, 4), edited, 15
	withReactions := m
	withReactions.Reactions, withReactions.Changed = rx, 16
	reactionsOnly := withReactions
	reactionsOnly.OnlyReactions = true
	tests := []struct {
		name string
		frag templ.Component
		want delivery
	}{
		{"edit", views.MessageEvent(withEdit), delivery{id: 15, kind: edit, sent: edited}},
		{"reaction", views.ReactionsEvent(reactionsOnly), delivery{id: 16, kind: reaction}},
		{"message with reactions", views.MessageEvent(withReactions), delivery{id: 16, kind: message, sent: posted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frag := render(t, tt.frag)
			got := readSSE(tt.want.id, frag)
			if len(got) != 1 || got[0].id != tt.want.id || got[0].kind != tt.want.kind || !got[0].sent.Equal(tt.want.sent) {
				t.Fatalf("SSE: got %+v, want %+v in\n%s", got, tt.want, frag)
			}
			d, ok := readFrame(t, tt.want.id, frag)
			if !ok || d.kind != tt.want.kind || !d.sent.Equal(tt.want.sent) {
				t.Fatalf("WebSocket: got %+v (%v), want %+v", d, ok, tt.want)
			}
		})
	}
}

func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// readSSE reads frag as one SSE event with id, each line its own data
// line as the hub splits it, and returns what the generator counts.
func readSSE(id int64, frag string) []delivery {
	var sse strings.Builder
	sse.WriteString("id: " + strconv.FormatInt(id, 10) + "\n")
	for _, line := range strings.Split(strings.TrimRight(frag, "\n"), "\n") {
		sse.WriteString("data: " + line + "\n")
	}
	sse.WriteString("\n")
	var got []delivery
	s := &stream{done: make(chan struct{})}
	s.read(strings.NewReader(sse.String()), func(_ *stream, d delivery) { got = append(got, d) })
	return got
}

// readFrame reads frag as a WebSocket frame: the hub quotes it as JSON,
// id first, without escaping HTML.
func readFrame(t *testing.T, id int64, frag string) (delivery, bool) {
	t.Helper()
	var frame bytes.Buffer
	enc := json.NewEncoder(&frame)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		ID      int64  `json:"id"`
		Content string `json:"content"`
	}{id, frag}); err != nil {
		t.Fatal(err)
	}
	if got := frameID(frame.Bytes()); got != id {
		t.Fatalf("frame id %d, want %d", got, id)
	}
	var ev event
	socketMarkers.scan(frame.Bytes(), &ev)
	return ev.delivery(id, time.Now())
}

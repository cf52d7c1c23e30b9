package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// The generator finds each benchmark message's scheduled time in the
// fragment the server renders, over SSE and the WebSocket alike: if the
// markup moves on, this fails instead of every workload reporting zero
// deliveries.
func TestMarkersFindTheScheduledTime(t *testing.T) {
	sched := time.Unix(0, 1_764_000_000_123_456_789)
	var frag bytes.Buffer
	m := chat.Message{ID: 9, RoomID: 1, AuthorID: 2, Author: "u2", Kind: chat.KindText, Body: body(sched, 3), Sent: sched}
	if err := views.MessageEvent(m).Render(context.Background(), &frag); err != nil {
		t.Fatal(err)
	}
	var sse strings.Builder
	sse.WriteString("id: 9\n")
	for _, line := range strings.Split(strings.TrimRight(frag.String(), "\n"), "\n") {
		sse.WriteString("data: " + line + "\n")
	}
	sse.WriteString("\n")
	var got []delivery
	s := &stream{done: make(chan struct{})}
	s.read(strings.NewReader(sse.String()), func(_ *stream, d delivery) { got = append(got, d) })
	if len(got) != 1 || got[0].id != 9 || !got[0].sent.Equal(sched) {
		t.Fatalf("SSE: got %+v, want id 9 sent %v", got, sched)
	}

	// The hub quotes frames as JSON without escaping HTML.
	var frame bytes.Buffer
	enc := json.NewEncoder(&frame)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{"id": 9, "content": frag.String()}); err != nil {
		t.Fatal(err)
	}
	if i := bytes.Index(frame.Bytes(), socketMarker); i < 0 {
		t.Fatalf("WebSocket marker not in %s", frame.Bytes())
	}
}

package views

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// BenchmarkMessageEvent renders one stream fragment: done once per message,
// whatever the number of readers.
func BenchmarkMessageEvent(b *testing.B) {
	m := chat.Message{ID: 123456, RoomID: 42, AuthorID: 7, Author: "someone", Kind: chat.KindText,
		Body: "A typical chat message of ordinary length, with <markup> & \"quotes\" to escape.", Sent: time.Now()}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := MessageEvent(m).Render(context.Background(), &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

// BenchmarkFormattedMessageEvent is the same with formatting: a link, a
// code span, emphasis and a mention.
func BenchmarkFormattedMessageEvent(b *testing.B) {
	m := chat.Message{ID: 123456, RoomID: 42, AuthorID: 7, Author: "someone", Kind: chat.KindText,
		Body:     "@ann the fix is in https://example.com/pull/1234, see `handlers/rooms.go`: *really* small.",
		Mentions: []chat.Mention{{UserID: 3, Name: "ann"}}, Sent: time.Now()}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := MessageEvent(m).Render(context.Background(), &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

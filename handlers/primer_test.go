package handlers

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// The primer must stay the markup the views render now: a message event
// of today's markup, compressed against it, costs at most 27% of its
// plain size. A primer left behind by a change to the markup fails here.
func TestThePrimerMatchesTheMarkupOfMessages(t *testing.T) {
	m := chat.Message{ID: 1234567, RoomID: 57, AuthorID: 1234, Author: "user1234", Kind: chat.KindText,
		Body: "sure, see you at five", Sent: time.Date(2026, 11, 30, 13, 47, 38, 0, time.UTC)}
	var plain bytes.Buffer
	fmt.Fprintf(&plain, "id: %d\ndata: ", m.ID)
	if err := views.MessageEvent(m).Render(context.Background(), &plain); err != nil {
		t.Fatal(err)
	}
	plain.WriteString("\n\n")
	size := func(dict []byte) int {
		var out bytes.Buffer
		w, _ := flate.NewWriterDict(&out, 6, dict)
		w.Write(plain.Bytes())
		w.Flush()
		return out.Len()
	}
	with, without := size(StreamPrimer()), size(nil)
	t.Logf("%d bytes plain, %d compressed alone, %d against the primer", plain.Len(), without, with)
	// 98 of 402 bytes (24%) when written; renaming the markup's classes
	// and htmx attributes without the primer makes it 125 (31%).
	if with*100 > plain.Len()*27 || with*2 > without {
		t.Fatalf("against the primer a message event is %d bytes of %d plain (%d alone): the primer no longer matches the markup", with, plain.Len(), without)
	}
}

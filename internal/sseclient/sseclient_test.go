package sseclient

import (
	"io"
	"strings"
	"testing"
)

func TestParsesLikeABrowser(t *testing.T) {
	stream := ": comment\n" +
		"id: 1\ndata: a\ndata: b\n\n" +
		"id: 2\r\nevent: reset\r\ndata:no space\r\n\r\n" +
		"id: 3\rdata: cr only\r\r" +
		"id: 4\n\n" + // no data: moves the id, dispatches nothing
		"data: after id-only\n\n" +
		"id: bad\x00id\ndata: nul ignored\n\n" +
		"data: unterminated"
	r := NewReader(strings.NewReader(stream))
	want := []Event{
		{ID: "1", Data: "a\nb"},
		{ID: "2", Name: "reset", Data: "no space"},
		{ID: "3", Data: "cr only"},
		{ID: "4", Data: "after id-only"},
		{ID: "4", Data: "nul ignored"},
	}
	for _, w := range want {
		got, err := r.Next()
		if err != nil || got != w {
			t.Fatalf("got %+v, %v; want %+v", got, err, w)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("an unterminated event must not dispatch: %v", err)
	}
	if r.Comments != 1 || r.LastEventID() != "4" {
		t.Fatalf("comments %d, last id %q", r.Comments, r.LastEventID())
	}
	if (Event{ID: "17"}).IntID() != 17 || (Event{ID: "x"}).IntID() != -1 {
		t.Fatal("IntID")
	}
}

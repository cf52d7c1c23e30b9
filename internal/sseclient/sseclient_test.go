package sseclient

import (
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
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

	// A block cut off before its blank line does not move the id.
	cut := NewReader(strings.NewReader("id: 1\ndata: a\n\nid: 2\ndata: half"))
	cut.Next()
	if _, err := cut.Next(); err == nil || cut.LastEventID() != "1" {
		t.Fatalf("after a cut block: last id %q, err %v", cut.LastEventID(), err)
	}
	if (Event{ID: "17"}).IntID() != 17 || (Event{ID: "x"}).IntID() != -1 {
		t.Fatal("IntID")
	}
}

func TestBackground(t *testing.T) {
	pr, pw := io.Pipe()
	bg := Read(pr)
	if _, err := bg.Next(20 * time.Millisecond); err != ErrTimeout {
		t.Fatalf("idle stream: %v", err)
	}
	go pw.Write([]byte("id: 7\ndata: hi\n\n"))
	ev, err := bg.Next(time.Second)
	if err != nil || ev.ID != "7" || ev.Data != "hi" || ev.At.IsZero() {
		t.Fatalf("got %+v, %v", ev, err)
	}
	pw.Close()
	if !bg.Ended(time.Second) {
		t.Fatal("closed stream not seen as ended")
	}
	if _, err := bg.Next(time.Second); err != io.EOF {
		t.Fatalf("after the end: %v", err)
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

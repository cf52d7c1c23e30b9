package hub

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/internal/sseclient"
	"github.com/rtmessenger/rtmessenger/static"
)

// A client that accepts gzip gets its stream compressed, and each event
// can be decoded as soon as it is sent, before the next one exists.
func TestACompressedStreamDeliversEachEventAtOnce(t *testing.T) {
	rg := newRig(t, Options{AcceptsGzip: static.AcceptsGzip, StreamPrimer: []byte(`<hx-upsert hx-target="#log-1" sort><li id="msg-1" class="msg">a message</li></hx-upsert>`)})
	rg.hub.Join(10, 1)
	conn, err := net.Dial("tcp", rg.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /events HTTP/1.1\r\nHost: x\r\nX-User: 1\r\nAccept-Encoding: br, gzip;q=0.9\r\n\r\n")
	br := bufio.NewReader(conn)
	header := readHeader(t, br)
	if !strings.Contains(header, "Content-Encoding: gzip") {
		t.Fatalf("no gzip in the response head:\n%s", header)
	}
	rg.waitConns(1)
	var events *sseclient.Reader
	for id := int64(1); id <= 3; id++ {
		text := fmt.Sprintf(`<hx-upsert hx-target="#log-10" sort><li id="msg-%d" class="msg">message %d</li></hx-upsert>`, id, id)
		rg.hub.Publish(10, id, []byte(text))
		if events == nil { // the gzip header comes with the first event
			zr, err := gzip.NewReader(br)
			if err != nil {
				t.Fatal(err)
			}
			events = sseclient.NewReader(zr)
		}
		ev, err := events.Next()
		if err != nil || ev.IntID() != id || ev.Data != text {
			t.Fatalf("event %d: %+v, %v", id, ev, err)
		}
	}
}

// An event is compressed once, whoever gets it.
func TestAnEventIsCompressedOnceForEveryone(t *testing.T) {
	rg := newRig(t, Options{AcceptsGzip: static.AcceptsGzip}) // Go's client asks for gzip and decodes it
	const members = 20
	var clients []*client
	for u := int64(1); u <= members; u++ {
		rg.hub.Join(10, u)
		clients = append(clients, rg.connect(u, ""))
	}
	rg.waitConns(members)
	// Ended by the hub, not by closing the bodies: Go's client would wait
	// for another event to close a gzip body it is reading.
	defer rg.hub.Close(t.Context())
	if !clients[0].resp.Uncompressed {
		t.Fatal("the stream was not compressed")
	}
	// The first event of each stream goes compressed alone, the later ones
	// against the primer: each kind once for all.
	for id := int64(1); id <= 3; id++ {
		before := rg.hub.gzip.made.Load()
		text := fmt.Sprintf("the same bytes for everyone, %d", id)
		rg.hub.Publish(10, id, []byte(text))
		for _, c := range clients {
			if ev := c.next(t); ev.Data != text {
				t.Fatalf("got %+v", ev)
			}
		}
		if made := rg.hub.gzip.made.Load() - before; made != 1 {
			t.Fatalf("event %d compressed %d times for %d members, want once", id, made, members)
		}
	}
}

// What the primer holds costs little: a typical fragment, compressed
// against a primer of the same markup, takes a fifth of its size or less.
func TestThePrimerMakesTypicalEventsSmall(t *testing.T) {
	fragment := func(id int64, author, text string) []byte {
		return fmt.Appendf(nil, "id: %d\ndata: <hx-upsert hx-target=\"#log-7\" sort><li id=\"msg-%d\" class=\"msg a3\" data-author=\"3\">"+
			"<div class=\"meta\"><strong class=\"author\">%s</strong> <time datetime=\"2026-11-30T11:00:0%dZ\">11:00</time>"+
			"<a class=\"copy\" href=\"/rooms/7?around=%d#msg-%d\" aria-label=\"Copy link\">#</a><a class=\"more\" href=\"/rooms/7/messages/%d/actions\" aria-label=\"Message actions\">⋯</a></div>"+
			"<p class=\"body\" dir=\"auto\">%s</p></li></hx-upsert>\n\n", id, id, author, id%10, id, id, id, text)
	}
	c := newStreamCodec(fragment(1, "someone", "the message"))
	plain := fragment(1234, "ben", "hello there, message 7")
	unit := c.unit(plain)
	if len(unit)*5 > len(plain) {
		t.Fatalf("%d plain bytes became %d", len(plain), len(unit))
	}
	// And the stream decodes to exactly what was written.
	stream := append(append(append(append([]byte(nil), gzipHeader...), c.primed...), unit...), c.unit(fragment(1235, "ann", "hi"))...)
	zr, err := gzip.NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != io.ErrUnexpectedEOF { // a stream has no gzip trailer until it ends
		t.Fatalf("reading the stream: %v", err)
	}
	want := string(c.primer) + string(plain) + string(c.primer) + string(fragment(1235, "ann", "hi")) + string(c.primer)
	if string(got) != want {
		t.Fatalf("decoded:\n%q\nwant:\n%q", got, want)
	}
}

func readHeader(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var head strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the response head: %v", err)
		}
		if line == "\r\n" {
			return head.String()
		}
		head.WriteString(line)
	}
}

// A stream's first event goes without the primer, which comes with the
// second: a page whose stream gets one event pays a small fraction of
// the primer's bytes, and the whole stream still decodes to what was
// written.
func TestTheFirstEventComesWithoutThePrimer(t *testing.T) {
	event := func(id int) string {
		return fmt.Sprintf("id: %d\ndata: <span id=\"counts-7\" class=\"counts\" data-last=\"%d\" data-unread=\"0\"></span>\n\n", id, id)
	}
	c := newStreamCodec([]byte(strings.Repeat(event(1), 8) + "a primer of typical markup, long enough to cost something on its own"))
	rec := httptest.NewRecorder()
	g := &gzipUnits{flushWriter: rec, codec: c}
	var sizes []int
	for id := 1; id <= 3; id++ {
		before := rec.Body.Len()
		io.WriteString(g, event(id))
		g.Flush()
		sizes = append(sizes, rec.Body.Len()-before)
	}
	if sizes[0] >= len(c.primed) || sizes[1] < len(c.primed) {
		t.Fatalf("bytes per event %v with a primer of %d compressed: the primer should come with the second", sizes, len(c.primed))
	}
	zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("reading the stream: %v", err)
	}
	want := event(1) + string(c.primer) + event(2) + string(c.primer) + event(3) + string(c.primer)
	if string(got) != want {
		t.Fatalf("decoded:\n%q\nwant:\n%q", got, want)
	}
}

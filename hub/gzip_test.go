package hub

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
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
// against a primer of the same markup, takes a fifth of its size or less,
// and the next message of the room, matched against that one too, an
// eighth.
func TestThePrimerMakesTypicalEventsSmall(t *testing.T) {
	fragment := func(id int64, author, text string) []byte {
		return fmt.Appendf(nil, "id: %d\ndata: <hx-upsert hx-target=\"#log-7\" sort><li id=\"msg-%d\" class=\"msg a3\" data-author=\"3\">"+
			"<div class=\"meta\"><strong class=\"author\">%s</strong> <time datetime=\"2026-11-30T11:00:0%dZ\">11:00</time>"+
			"<a class=\"copy\" href=\"/rooms/7?around=%d#msg-%d\" aria-label=\"Copy link\">#</a><a class=\"more\" href=\"/rooms/7/messages/%d/actions\" aria-label=\"Message actions\">⋯</a></div>"+
			"<p class=\"body\" dir=\"auto\">%s</p></li></hx-upsert>\n\n", id, id, author, id%10, id, id, id, text)
	}
	c := newStreamCodec(fragment(1, "someone", "the message"))
	s := unitStream{codec: c}
	var stream []byte
	send := func(plain []byte) int {
		before := len(stream)
		stream = s.encode(stream, plain)
		return len(stream) - before
	}
	send([]byte(": hb\n\n")) // the first event, then the primer
	send([]byte(": hb\n\n"))
	first, next := fragment(1234, "ben", "hello there, message 7"), fragment(1235, "ann", "hi, ben")
	if n := send(first); n*5 > len(first) {
		t.Fatalf("%d plain bytes became %d", len(first), n)
	}
	if n := send(next); n*8 > len(next) {
		t.Fatalf("the room's next message: %d plain bytes became %d", len(next), n)
	}
	// And the stream decodes to exactly what was written.
	want := ": hb\n\n" + string(c.primer) + ": hb\n\n" + string(first) + string(next)
	if got := decodeAll(t, stream); got != want {
		t.Fatalf("decoded:\n%q\nwant:\n%q", got, want)
	}
}

// decodeAll is what a client makes of a stream so far: all of it, with
// no gzip trailer, as a stream has none until it ends.
func decodeAll(t *testing.T, stream []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("reading the stream: %v", err)
	}
	return string(got)
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
	g := &gzipUnits{flushWriter: rec, stream: unitStream{codec: c}}
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
	want := event(1) + string(c.primer) + event(2) + event(3)
	if got := decodeAll(t, rec.Body.Bytes()); got != want {
		t.Fatalf("decoded:\n%q\nwant:\n%q", got, want)
	}
}

// Whatever a stream carries (rooms interleaved, heartbeats, events longer
// than the window, enough to renew the primer many times), each event
// decodes as soon as its bytes are sent, to exactly its text.
func TestEveryEventDecodesAtOnce(t *testing.T) {
	// Two bytes over whole copies: renewing it takes a copy shortened.
	c := newStreamCodec([]byte(strings.Repeat(`<li id="msg-1" class="msg">a message</li>`, 18) + strings.Repeat("z", 35)))
	if len(c.primer)%maxMatch != 2 {
		t.Fatalf("a primer of %d bytes", len(c.primer))
	}
	s := unitStream{codec: c}
	pr, pw := io.Pipe()
	zr := make(chan *gzip.Reader, 1)
	go func() {
		r, err := gzip.NewReader(pr)
		if err != nil {
			pr.CloseWithError(err)
		}
		zr <- r
	}()
	rnd := rand.New(rand.NewPCG(1, 2))
	var dec *gzip.Reader
	for i := range 1500 {
		var plain []byte
		switch n := rnd.IntN(100); {
		case n < 5:
			plain = []byte(": hb\n\n")
		case n < 7: // longer than the window
			plain = fmt.Appendf(nil, "id: %d\ndata: %s\n\n", i, randomText(rnd, 33000+rnd.IntN(30000)))
		case n < 12:
			plain = fmt.Appendf(nil, "id: %d\ndata: %s\n\n", i, randomText(rnd, 2000+rnd.IntN(12000)))
		default:
			plain = fmt.Appendf(nil, "id: %d\ndata: <hx-upsert hx-target=\"#log-%d\" sort><li id=\"msg-%d\" class=\"msg\">%s</li></hx-upsert>\n\n",
				i, rnd.IntN(4), i, randomText(rnd, rnd.IntN(200)))
		}
		primerAt := s.primerAt
		out := s.encode(nil, plain)
		want := string(plain)
		if s.primerAt != primerAt && i > 0 {
			want = string(c.primer) + want // renewed before it
		}
		go pw.Write(out)
		if dec == nil {
			dec = <-zr
		}
		got := make([]byte, len(want))
		if _, err := io.ReadFull(dec, got); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if string(got) != want {
			t.Fatalf("event %d decoded to\n%.300q\nwant\n%.300q", i, got, want)
		}
	}
}

// randomText is n bytes of text that repeats itself now and then, as
// markup does.
func randomText(rnd *rand.Rand, n int) string {
	words := []string{"the ", "message ", "<b>", "</b>", "room ", "hx-target ", "ö", "👍", "\t"}
	var b strings.Builder
	for b.Len() < n {
		if rnd.IntN(3) == 0 {
			b.WriteByte(byte('a' + rnd.IntN(26)))
		} else {
			b.WriteString(words[rnd.IntN(len(words))])
		}
	}
	return b.String()
}

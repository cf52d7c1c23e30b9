package hub

import (
	"bufio"
	"bytes"
	"compress/flate"
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
	d := newEventDecoder()
	defer close(d.want) // ends its goroutine
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 600 {
		plain := randomEvent(rnd, i, true)
		primerAt := s.primerAt
		out := s.encode(nil, plain)
		want := string(plain)
		if s.primerAt != primerAt && i > 0 {
			want = string(c.primer) + want // renewed before it
		}
		got, ok := d.decode(out, len(want))
		if !ok {
			t.Fatalf("event %d (%d bytes) did not decode from its own bytes: the decoder wanted more", i, len(plain))
		}
		if got != want {
			t.Fatalf("event %d decoded to\n%.300q\nwant\n%.300q", i, got, want)
		}
	}
}

// Streams with different histories write the same events, searched once,
// each with its own distances, and each decodes to what it was sent; an
// event follows more earlier events than it keeps searches for.
func TestStreamsWithDifferentHistoriesShareEvents(t *testing.T) {
	c := newStreamCodec([]byte(`<hx-upsert hx-target="#log-1" sort><li id="msg-1" class="msg">a message</li></hx-upsert>`))
	rnd := rand.New(rand.NewPCG(3, 4))
	var pool [][]byte
	for i := range 30 {
		pool = append(pool, randomEvent(rnd, i, false))
	}
	type stream struct {
		s    unitStream
		sent []byte
		want strings.Builder
	}
	streams := make([]*stream, 8)
	for i := range streams {
		streams[i] = &stream{s: unitStream{codec: c}}
	}
	for range 400 {
		plain := pool[rnd.IntN(len(pool))]
		for _, st := range streams {
			if rnd.IntN(3) == 0 {
				continue // not a member
			}
			primerAt := st.s.primerAt
			st.sent = st.s.encode(st.sent, plain)
			if st.s.primerAt != primerAt {
				st.want.WriteString(string(c.primer))
			}
			st.want.Write(plain)
		}
	}
	for i, st := range streams {
		if got := decodeAll(t, st.sent); got != st.want.String() {
			t.Fatalf("stream %d decoded to something else", i)
		}
	}
	full := 0
	for i := range c.slots {
		if u := c.slots[i].unit; u != nil && len(u.after) == maxAfter {
			full++
		}
	}
	if full == 0 {
		t.Fatal("no event was written after more earlier events than it keeps searches for")
	}
}

// Every length and every distance deflate has, written with the fixed
// codes, decodes to the copy it stands for.
func TestEveryCopyDecodes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	w := bitWriter{}
	var want []byte
	w.put(fixedBlockStart, 3)
	literal := func() {
		b := byte(rnd.IntN(256))
		c := literalCodes[b]
		w.put(c.bits, c.n)
		want = append(want, b)
	}
	for range windowSize { // a full window to copy from
		literal()
	}
	// Random bytes between the copies: a wrong distance then copies
	// other bytes, where copies of copies would repeat themselves.
	copyOf := func(length, distance int) {
		for range 4 {
			literal()
		}
		w.copyFrom(length, distance)
		for range length {
			want = append(want, want[len(want)-distance])
		}
	}
	for length := 3; length <= maxMatch; length++ {
		copyOf(length, 1+rnd.IntN(windowSize))
	}
	for distance := 1; distance <= windowSize; distance++ {
		copyOf(3, distance)
	}
	w.align()
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(w.out)))
	if err != io.ErrUnexpectedEOF { // no last block: a stream never ends
		t.Fatalf("decoding: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("decoded %d bytes, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// randomEvent is an SSE event: mostly messages in a few rooms, some
// heartbeats, some long ones (longer than the window too, if huge).
func randomEvent(rnd *rand.Rand, id int, huge bool) []byte {
	switch n := rnd.IntN(100); {
	case n < 5:
		return []byte(": hb\n\n")
	case n < 7 && huge:
		return fmt.Appendf(nil, "id: %d\ndata: %s\n\n", id, randomText(rnd, 33000+rnd.IntN(30000)))
	case n < 12:
		return fmt.Appendf(nil, "id: %d\ndata: %s\n\n", id, randomText(rnd, 2000+rnd.IntN(12000)))
	}
	return fmt.Appendf(nil, "id: %d\ndata: <hx-upsert hx-target=\"#log-%d\" sort><li id=\"msg-%d\" class=\"msg\">%s</li></hx-upsert>\n\n",
		id, rnd.IntN(4), id, randomText(rnd, rnd.IntN(200)))
}

// eventDecoder decodes a stream event by event, as a client does, and
// tells when the decoder wanted bytes beyond those sent so far: on a real
// stream it would wait for the next event to finish this one.
type eventDecoder struct {
	more    chan []byte
	starved chan struct{}
	want    chan int
	got     chan string
	left    []byte
}

func newEventDecoder() *eventDecoder {
	d := &eventDecoder{more: make(chan []byte, 1), starved: make(chan struct{}), want: make(chan int), got: make(chan string)}
	go func() {
		var zr *gzip.Reader
		for n := range d.want {
			if zr == nil {
				var err error
				if zr, err = gzip.NewReader(d); err != nil {
					panic(err) // the test would hang instead: better to fail loudly
				}
			}
			b := make([]byte, n)
			io.ReadFull(zr, b)
			d.got <- string(b)
		}
	}()
	return d
}

// Read serves the decoder what was sent; with nothing left it reports
// the starving and waits.
func (d *eventDecoder) Read(p []byte) (int, error) {
	if len(d.left) == 0 {
		select {
		case d.left = <-d.more:
		default:
			d.starved <- struct{}{}
			d.left = <-d.more
		}
	}
	n := copy(p, d.left)
	d.left = d.left[n:]
	return n, nil
}

// decode sends an event's bytes and returns the n bytes of text they
// decode to, or false if the decoder wanted more than those.
func (d *eventDecoder) decode(sent []byte, n int) (string, bool) {
	d.more <- sent
	d.want <- n
	select {
	case got := <-d.got:
		return got, true
	case <-d.starved:
		return "", false
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

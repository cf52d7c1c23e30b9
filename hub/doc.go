package hub

import (
	"bytes"
	"net/http"
	"strconv"
)

// Start returns the beginning of a streamed document: everything before
// its first chunk. retry is false when the stream was refused: the
// document must then not ask to be loaded again (with a meta refresh, say),
// or the browser would be refused over and over.
type Start = func(retry bool) []byte

// Chunk turns one event into the markup appended to a streamed document,
// or nil to leave the event out. It is called for one event at a time, so
// it may keep state of its own (what it has shown).
type Chunk = func(id int64, event string, data []byte) []byte

// heartbeatChunk is a heartbeat in a streamed document: a comment, which
// keeps proxies and browsers from timing the response out and shows
// nothing.
var heartbeatChunk = []byte("<!--hb-->")

// ServeDocument streams user's events as one HTML document that never
// ends, for pages without script (an iframe's document that grows as
// events arrive): start, then each event as chunk makes it, each flushed at
// once. It is the stream Serve serves, over a third encoding: the same
// queue, replay, cut-off, session checks and per-user caps (every
// transport counts). The headers already set on w (a security policy)
// go out with the document's own.
func (h *Hub) ServeDocument(w http.ResponseWriter, r *http.Request, userID int64, session string, valid func() bool,
	replay Replay, start Start, chunk Chunk) {
	header := w.Header().Clone() // hijacking leaves w's headers behind
	c := &conn{session: session, valid: valid, light: saveData(r), chose: h.chose(userID)}
	h.serveVia(w, r, userID, c, replay, func(s sink) sink {
		return &docSink{sink: s, header: header, start: start, chunk: chunk, retry: true}
	})
}

// docSink turns the SSE text r3labs writes into a growing HTML document:
// each event block becomes its chunk, a heartbeat a comment. It writes
// through the sink it wraps, a hijacked connection or net/http.
type docSink struct {
	sink
	header http.Header // sent with the document, over what r3labs set
	start  Start
	chunk  Chunk
	retry  bool   // false once the stream is refused: see Start
	wrote  bool   // the header and start went out
	part   []byte // an event block not yet complete
}

func (d *docSink) WriteHeader(code int) {
	if d.wrote {
		return
	}
	d.wrote = true
	hd := d.sink.Header()
	for k, v := range d.header {
		hd[k] = v
	}
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	d.sink.WriteHeader(code)
	d.sink.Write(d.start(d.retry))
}

// Write collects SSE text and appends each complete event's chunk.
func (d *docSink) Write(p []byte) (int, error) {
	if !d.wrote {
		d.WriteHeader(http.StatusOK)
	}
	d.part = append(d.part, p...)
	rest := d.part
	for {
		block, after, ok := bytes.Cut(rest, []byte("\n\n"))
		if !ok {
			break
		}
		rest = after
		if c := d.encode(block); len(c) > 0 {
			if _, err := d.sink.Write(c); err != nil {
				d.part = d.part[:0]
				return 0, err
			}
		}
	}
	d.part = append(d.part[:0], rest...)
	if cap(d.part) > 64<<10 { // one huge event: do not keep its buffer
		d.part = nil
	}
	return len(p), nil
}

// refused marks the stream as refused before its answer is written.
func (d *docSink) refused() { d.retry = false }

// encode makes one SSE event block (as r3labs or appendEvent frame it)
// into its chunk: a heartbeat for a comment, chunk's markup for an event.
func (d *docSink) encode(block []byte) []byte {
	var id int64
	var event string
	var data []byte
	lines, comment := 0, false
	for line := range bytes.SplitSeq(block, []byte("\n")) {
		field, value, _ := bytes.Cut(line, []byte(": "))
		switch string(field) {
		case "id":
			id, _ = strconv.ParseInt(string(value), 10, 64)
		case "event":
			event = string(value)
		case "data":
			data = joinData(data, value, lines)
			lines++
		case "":
			comment = true // ": hb"
		}
	}
	if lines == 0 {
		if comment {
			return heartbeatChunk
		}
		return nil
	}
	return d.chunk(id, event, data)
}

// joinData adds an event's nth data line to what it has so far. The usual
// event has one line, which is used where it lies, without a copy.
func joinData(data, line []byte, n int) []byte {
	if n == 0 {
		return line
	}
	if n == 1 {
		data = append([]byte(nil), data...)
	}
	return append(append(data, '\n'), line...)
}

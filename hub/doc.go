package hub

import (
	"context"
	"net/http"
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
// fan-out, replay, cut-off, session checks and per-user caps (every
// transport counts). The headers already set on w (a security policy)
// go out with the document's own.
func (h *Hub) ServeDocument(w http.ResponseWriter, r *http.Request, userID int64, session string, valid func() bool,
	replay Replay, start Start, chunk Chunk) {
	header := w.Header().Clone() // hijacking leaves w's headers behind
	out, raw := newSink(w)
	d := &docFrames{w: h.newStreamWriter(out), header: header, start: start, chunk: chunk, retry: true}
	if h.opt.AcceptsGzip != nil && h.opt.AcceptsGzip(r) {
		d.gzip = &unitStream{codec: h.docGzip, sum: true}
	}
	c := h.newConn("doc", newQueueOutlet(h.queueLen(), d))
	c.session, c.valid, c.light, c.chose = session, valid, saveData(r), h.chose(userID)
	d.w.failed = func() { h.cutOff(c, "write_timeout") }
	watchRequest(r, raw, c)
	h.open(userID, c, raw, replay)
}

// docFrames writes events as chunks of a growing HTML document, a
// heartbeat as a comment.
type docFrames struct {
	w      *streamWriter
	header http.Header // sent with the document
	start  Start
	chunk  Chunk
	retry  bool // false once the stream is refused: see Start
	// gzip compresses the document chunk by chunk (gzipstream.go), each
	// decodable at once; nil for a client that takes no gzip.
	gzip *unitStream
}

func (d *docFrames) begin() {
	hd := d.w.Header()
	for k, v := range d.header {
		hd[k] = v
	}
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	if d.gzip != nil {
		hd.Set("Content-Encoding", "gzip")
	}
	d.w.WriteHeader(http.StatusOK)
	d.send(d.start(d.retry))
	d.w.Flush()
}

// send writes a part of the document, compressed if the client takes it.
func (d *docFrames) send(b []byte) error {
	if d.gzip == nil {
		_, err := d.w.Write(b)
		return err
	}
	return d.gzip.send(d.w, b)
}

func (d *docFrames) write(_ context.Context, ev *Event) error {
	var b []byte
	if ev.kind == kindHeartbeat {
		b = heartbeatChunk
	} else {
		b = d.chunk(ev.ID, ev.Name, ev.Data)
	}
	if len(b) == 0 {
		return nil
	}
	return d.send(b)
}

func (d *docFrames) flush() { d.w.Flush() }
func (d *docFrames) cut()   { d.w.cut() }

// close ends the document; one that ended in order and is compressed
// gets its gzip trailer, so the client reads it as whole.
func (d *docFrames) close(ended bool, _ endReason) {
	if ended && d.gzip != nil {
		d.w.Write(d.gzip.end())
	}
	d.w.finish()
}
func (d *docFrames) refused() { d.retry = false }

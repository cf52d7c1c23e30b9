package hub

import (
	"bytes"
	"hash/maphash"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
)

// A compressed SSE stream (Content-Encoding: gzip) costs each delivered
// message a fifth of its plain bytes, and the server no memory per stream
// and one compression per event, however many members get it.
//
// The trick is a primer: a comment line of typical markup that follows
// every event from a stream's second on. Each of those events is compressed
// on its own, with the primer as its preset dictionary, together with the
// primer after it, and ends on a byte boundary (a sync flush). So whatever
// came before, a client's decoder has just seen the primer when such an
// event's bytes begin, and the same bytes decode right on every stream: an
// event is compressed once and shared. The markup it shares with the primer
// costs a few bytes; the primer repeated after it, a few more, as one long
// match. The decoder holds the window, not the server.
//
// The primer itself (about 600 bytes compressed) goes out with a stream's
// second event, before it: the first is compressed alone (no primer before
// it or after it), also once for every stream it starts. A page's stream
// often gets one event (its own read mark) before the reader moves to the
// next page, which opens a stream of its own; those pages never pay for
// the primer.

// unitLevel is klauspost's level 5: with the app's 1.4 KB primer an event
// costs 13 µs and 153 B against the standard library's 33 µs and 149 B at
// level 6, whose every reset clears 640 KB of tables (a third of all
// compression time, more on a busy many-core machine).
const unitLevel = 5

// streamCodec makes the compressed form of SSE text, one event at a time.
type streamCodec struct {
	primer []byte // the comment line
	primed []byte // the primer compressed alone: what a stream's second event comes after
	// writers holds the compressors not in use. There are at most as many
	// as Ps, made as needed: each holds about a megabyte, so they are
	// neither made per event nor let grow with the streams.
	writers chan *flate.Writer
	started atomic.Int64 // compressors made
	seed    maphash.Seed
	slots   [512]unitSlot // recent events' compressed forms, by their text
	firsts  [64]unitSlot  // the same for events that start a stream, compressed alone
	made    atomic.Int64  // compressions done: for tests
}

type unitSlot struct {
	mu    sync.Mutex
	plain string
	unit  []byte
}

// gzipHeader starts a gzip member: deflate, no name, no time, unknown OS.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// newStreamCodec makes a codec whose primer is sample (typical SSE text of
// the app's events) made into one comment line.
func newStreamCodec(sample []byte) *streamCodec {
	line := strings.NewReplacer("\r", " ", "\n", " ").Replace(string(sample))
	c := &streamCodec{primer: []byte(": " + line + "\n"), seed: maphash.MakeSeed(), writers: make(chan *flate.Writer, runtime.GOMAXPROCS(0))}
	c.primed = c.compress(nil, c.primer, nil)
	return c
}

// unit is the compressed form of one event's SSE text, followed by the
// primer, for a stream whose decoder has just seen the primer.
func (c *streamCodec) unit(plain []byte) []byte {
	return c.cached(c.slots[:], plain, func() []byte { return c.compress(c.primer, plain, c.primer) })
}

// first is the compressed form of the event that starts a stream: alone,
// as nothing came before it.
func (c *streamCodec) first(plain []byte) []byte {
	return c.cached(c.firsts[:], plain, func() []byte { return c.compress(nil, plain, nil) })
}

// cached returns the form build gives plain, made once per distinct text
// while it is recent. The slot stays locked while it compresses: the
// other members' streams want the same form, and wait for it rather than
// make it again.
func (c *streamCodec) cached(slots []unitSlot, plain []byte, build func() []byte) []byte {
	s := &slots[maphash.Bytes(c.seed, plain)%uint64(len(slots))]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unit == nil || s.plain != string(plain) { // nil: an empty slot, "" as its text
		s.plain, s.unit = string(plain), build()
	}
	return s.unit
}

// compress deflates text, then tail, against dict (nil: none), ending on
// a byte boundary.
func (c *streamCodec) compress(dict, text, tail []byte) []byte {
	c.made.Add(1)
	var out bytes.Buffer
	w := c.writer()
	w.ResetDict(&out, dict)
	w.Write(text)
	w.Write(tail)
	w.Flush()
	c.writers <- w // never blocks: no more are made than it holds
	return out.Bytes()
}

// writer takes a free compressor, makes one if fewer than the limit
// exist, or waits for one.
func (c *streamCodec) writer() *flate.Writer {
	select {
	case w := <-c.writers:
		return w
	default:
	}
	if c.started.Add(1) <= int64(cap(c.writers)) {
		w, err := flate.NewWriter(nil, unitLevel)
		if err != nil {
			panic(err) // only for a bad level
		}
		return w
	}
	c.started.Add(-1)
	return <-c.writers
}

package hub

import (
	"bytes"
	"hash/maphash"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"
)

// A compressed SSE stream (Content-Encoding: gzip) costs each delivered
// message a fraction of its plain bytes, and the server about a hundred
// bytes per stream and one match search per event, however many members
// get it.
//
// The trick is a primer: a comment line of typical markup that a stream
// sends compressed once, with its second event, and again (as one long
// copy, a few bytes) before it slides out of the decoder's 32 KB window.
// Each event's matches are searched once, against the primer and, where a
// stream's recent events hold one like it (the room's last message, say),
// against that event too: members of a room get the same events, so they
// share that search as well. What a stream does per event is to write the
// matches down (deflate.go) with its own distances to the primer and that
// earlier event, which only it knows, ending on whole bytes so the event
// decodes at once. The decoder holds the window, not the server.
//
// A stream's first event goes compressed alone, once for every stream it
// starts: a page's stream often gets one event (its own read mark) before
// the reader moves to the next page, which opens a stream of its own;
// those pages never pay for the primer.

// unitLevel is klauspost's level 5, for what klauspost compresses: the
// primer and a stream's first event. Cheaper than the standard library's
// level 6, whose every reset clears 640 KB of tables.
const unitLevel = 5

// streamCodec holds what every compressed stream shares.
type streamCodec struct {
	primer []byte // the comment
	primed []byte // the primer compressed alone, ending on a byte
	// writers holds the compressors not in use. There are at most as many
	// as Ps, made as needed: each holds about a megabyte, so they are
	// neither made per event nor let grow with the streams.
	writers chan *flate.Writer
	started atomic.Int64 // compressors made
	seed    maphash.Seed
	// kindAt is what comes before the tag that tells an event's kind
	// (unitKind): "data: " in SSE text, `":"` in a WebSocket's JSON.
	kindAt []byte
	slots  [512]unitSlot // recent events, by their text
	firsts [64]firstSlot // events that start a stream, compressed alone
	units  atomic.Uint64 // names units
	made   atomic.Int64  // compressions and match searches done: for tests
}

type unitSlot struct {
	mu   sync.Mutex
	unit *unit
}

type firstSlot struct {
	mu    sync.Mutex
	plain string
	first []byte
}

// A unit is one event's SSE text and its matches, searched once and only
// when a stream needs them.
type unit struct {
	id    uint64
	plain []byte
	kind  uint64 // which earlier events are like it (unitKind)
	mu    sync.Mutex
	alone []token     // against the primer only
	bare  []token     // against nothing: the event is too long to reach the primer
	after []unitAfter // against the primer and an earlier unit
}

type unitAfter struct {
	prev   uint64 // the earlier unit's id
	tokens []token
}

// maxAfter bounds the earlier units an event's matches are searched
// against: members whose recent events differ (other rooms) make more.
const maxAfter = 4

// gzipHeader starts a gzip member: deflate, no name, no time, unknown OS.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// newStreamCodec makes a codec for SSE streams whose primer is sample
// (typical SSE text of the app's events) made into one comment line.
func newStreamCodec(sample []byte) *streamCodec {
	line := strings.NewReplacer("\r", " ", "\n", " ").Replace(string(sample))
	return newCodec(": ", line, "\n", "data: ")
}

// newDocCodec makes a codec for streamed documents whose primer is sample
// made into an HTML comment, with no "--" left in it to end it early.
func newDocCodec(sample []byte) *streamCodec {
	text := string(sample)
	for strings.Contains(text, "--") {
		text = strings.ReplaceAll(text, "--", "- -")
	}
	return newCodec("<!-- ", text, " -->\n", "data: ")
}

// newSocketCodec makes a codec for WebSockets whose primer is sample's
// events (SSE text) as a socket sends them, frames of JSON, held in one
// message that clients pass over: {"primer":[frame,...]}. Frames are left
// out from the front until it fits: the last, a message, matters most.
func newSocketCodec(sample []byte) *streamCodec {
	var frames [][]byte
	size := len(`{"primer":[]}`)
	events := sseEvents(sample)
	for i := len(events) - 1; i >= 0; i-- {
		f := wsForm(events[i])
		if size += len(f) + 1; size > maxSource {
			break
		}
		frames = append([][]byte{f}, frames...)
	}
	primer := `{"primer":[` + string(bytes.Join(frames, []byte(","))) + `]}`
	return newCodec("", primer, "", `":"`)
}

// sseEvents reads SSE text back into its events.
func sseEvents(text []byte) []*Event {
	var events []*Event
	for block := range bytes.SplitSeq(text, []byte("\n\n")) {
		var id int64
		var name string
		var data []byte
		for line := range bytes.SplitSeq(block, []byte("\n")) {
			field, value, _ := bytes.Cut(line, []byte(": "))
			switch string(field) {
			case "id":
				id, _ = strconv.ParseInt(string(value), 10, 64)
			case "event":
				name = string(value)
			case "data":
				if data != nil {
					data = append(data, '\n')
				}
				data = append(data, value...)
			}
		}
		if ev := newEvent(id, name, data); ev != nil {
			events = append(events, ev)
		}
	}
	return events
}

func newCodec(open, primer, end, kindAt string) *streamCodec {
	if n := maxSource - len(open) - len(end); len(primer) > n {
		for n > 0 && !utf8.RuneStart(primer[n]) {
			n-- // not within a character
		}
		primer = primer[:n]
	}
	c := &streamCodec{primer: []byte(open + primer + end), seed: maphash.MakeSeed(), kindAt: []byte(kindAt),
		writers: make(chan *flate.Writer, runtime.GOMAXPROCS(0))}
	c.primed = c.compress(c.primer)
	return c
}

// unit is the unit of an event's text, one for all streams while recent.
func (c *streamCodec) unit(plain []byte) *unit {
	s := &c.slots[maphash.Bytes(c.seed, plain)%uint64(len(c.slots))]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unit == nil || string(s.unit.plain) != string(plain) {
		s.unit = &unit{id: c.units.Add(1), plain: bytes.Clone(plain), kind: unitKind(c.seed, c.kindAt, plain)}
	}
	return s.unit
}

// first is the compressed form of the event that starts a stream: alone,
// as nothing came before it. The slot stays locked while it compresses:
// the other streams want the same form, and wait for it rather than make
// it again.
func (c *streamCodec) first(plain []byte) []byte {
	s := &c.firsts[maphash.Bytes(c.seed, plain)%uint64(len(c.firsts))]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first == nil || s.plain != string(plain) {
		s.plain, s.first = string(plain), c.compress(plain)
	}
	return s.first
}

// unitKind tells which events are alike: those whose data (after kindAt)
// starts with the same tag (a message upserted into one room's log, that
// room's typing).
func unitKind(seed maphash.Seed, kindAt, plain []byte) uint64 {
	i := bytes.Index(plain, kindAt)
	if i < 0 {
		return 0
	}
	tag := plain[i:]
	if j := bytes.IndexByte(tag, '>'); j >= 0 {
		tag = tag[:j]
	}
	return maphash.Bytes(seed, tag[:min(len(tag), 96)])
}

// tokens are u's matches against the primer and prev (nil: none), searched
// once per pair. Past maxAfter earlier units, it is the primer alone.
func (c *streamCodec) tokens(u, prev *unit) []token {
	u.mu.Lock()
	defer u.mu.Unlock()
	if prev != nil {
		for _, a := range u.after {
			if a.prev == prev.id {
				return a.tokens
			}
		}
		if len(u.after) < maxAfter {
			t := c.search(c.primer, prev.plain, u.plain)
			u.after = append(u.after, unitAfter{prev.id, t})
			return t
		}
	}
	if u.alone == nil {
		u.alone = c.search(c.primer, nil, u.plain)
	}
	return u.alone
}

// bareTokens are u's matches within itself.
func (c *streamCodec) bareTokens(u *unit) []token {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.bare == nil {
		u.bare = c.search(nil, nil, u.plain)
	}
	return u.bare
}

// search runs a match search, counted for tests.
func (c *streamCodec) search(primer, prev, text []byte) []token {
	c.made.Add(1)
	return matchEvent(primer, prev, text)
}

// compress deflates text alone, ending on a byte boundary.
func (c *streamCodec) compress(text []byte) []byte {
	c.made.Add(1)
	var out bytes.Buffer
	w := c.writer()
	w.Reset(&out)
	w.Write(text)
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

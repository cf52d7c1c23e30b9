package hub

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync"
)

// unitStream is where one compressed stream stands: what its client's
// decoder holds, as far as the next event's matches need to know.
type unitStream struct {
	codec    *streamCodec
	sent     int         // events sent, counted up to 2: the first and second differ
	pos      int         // text the decoder has put out so far
	primerAt int         // where the primer's latest copy starts in that text
	recent   [4]sentUnit // the latest events sent, newest last
	// sum keeps the CRC of the text for the gzip trailer (end): for a
	// document, which ends; an SSE stream never does.
	sum bool
	crc uint32
}

type sentUnit struct {
	u  *unit
	at int // where its text starts
}

// outs recycles the buffers events are compressed into, so an idle stream
// holds none.
var outs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// lend runs fn with a buffer from outs, kept for the next unless fn made
// it huge.
func lend(fn func(out *[]byte) error) error {
	out := outs.Get().(*[]byte)
	err := fn(out)
	if cap(*out) <= 64<<10 {
		outs.Put(out)
	}
	return err
}

// send writes plain to w compressed, as this stream sends it.
func (s *unitStream) send(w io.Writer, plain []byte) error {
	return lend(func(out *[]byte) error {
		*out = s.encode((*out)[:0], plain)
		_, err := w.Write(*out)
		return err
	})
}

// encode appends plain's compressed form, as this stream sends it, to out.
func (s *unitStream) encode(out []byte, plain []byte) []byte {
	if s.sent == 0 {
		out = append(out, gzipHeader...)
	}
	return s.event(s.prime(out, len(plain)), plain)
}

// messages sends plain as a WebSocket sends it compressed (RFC 7692): each
// message is raw deflate without the 00 00 ff ff that ends it. The primer
// goes as a message of its own, when due: a message's every byte is its
// text, so the primer cannot share one with an event.
func (s *unitStream) messages(plain []byte, send func([]byte) error) error {
	return lend(func(out *[]byte) error {
		if *out = s.prime((*out)[:0], len(plain)); len(*out) > 0 {
			if err := send(bytes.TrimSuffix(*out, syncMarker)); err != nil {
				return err
			}
		}
		*out = s.event((*out)[:0], plain)
		return send(bytes.TrimSuffix(*out, syncMarker))
	})
}

// syncMarker ends every compressed event: the empty stored block of a sync
// flush (bitWriter.align).
var syncMarker = []byte{0, 0, 0xff, 0xff}

// prime appends the primer where the next event, n bytes long, needs it:
// with the stream's second event, and again before it slides out of the
// window.
func (s *unitStream) prime(out []byte, n int) []byte {
	c := s.codec
	switch {
	case s.sent == 1:
		s.sent = 2
		out = append(out, c.primed...)
		s.primerAt, s.pos = s.pos, s.pos+len(c.primer)
		s.note(c.primer)
	case s.sent == 2 && reaches(c, n) && s.pos+n-s.primerAt > windowSize:
		w := bitWriter{out: out}
		s.renewPrimer(&w)
		out = w.out
	}
	return out
}

// reaches reports whether an event n bytes long can reach back to the
// primer at all.
func reaches(c *streamCodec, n int) bool { return len(c.primer)+n <= windowSize }

// event appends plain's compressed form, with the matches the stream's
// history allows. The first event goes compressed alone.
func (s *unitStream) event(out []byte, plain []byte) []byte {
	c := s.codec
	if s.sent == 0 {
		s.sent = 1
		s.remember(c.unit(plain))
		s.pos = len(plain)
		s.note(plain)
		return append(out, c.first(plain)...)
	}
	u := c.unit(plain)
	w := bitWriter{out: out}
	w.put(fixedBlockStart, 3)
	var tokens []token
	var prev *sentUnit
	if reaches(c, len(plain)) {
		prev = s.like(u)
		var pu *unit
		if prev != nil {
			pu = prev.u
		}
		tokens = c.tokens(u, pu)
	} else {
		tokens = c.bareTokens(u)
	}
	s.write(&w, u.plain, tokens, prev)
	w.align()
	s.remember(u)
	s.pos += len(plain)
	s.note(plain)
	return w.out
}

// note adds text the decoder puts out to the trailer's CRC.
func (s *unitStream) note(text []byte) {
	if s.sum {
		s.crc = crc32.Update(s.crc, crc32.IEEETable, text)
	}
}

// end is what completes the gzip stream after its last event: a last,
// empty block and the trailer (the text's CRC and length), so a client
// that checks them finds the stream whole. Nothing if nothing was sent.
func (s *unitStream) end() []byte {
	if s.sent == 0 {
		return nil
	}
	w := bitWriter{}
	w.put(0b011, 3) // BFINAL 1, BTYPE 01
	w.endBlock()
	w.pad()
	w.out = binary.LittleEndian.AppendUint32(w.out, s.crc)
	return binary.LittleEndian.AppendUint32(w.out, uint32(s.pos))
}

// write puts tokens down with this stream's distances.
func (s *unitStream) write(w *bitWriter, plain []byte, tokens []token, prev *sentUnit) {
	at := s.pos
	for _, t := range tokens {
		switch t.kind() {
		case tokLiterals:
			for _, b := range plain[t.off() : t.off()+t.run()] {
				c := literalCodes[b]
				w.put(c.bits, c.n)
			}
			at += t.run()
			continue
		case tokSelf:
			w.copyFrom(t.length(), t.off()+1)
		case tokPrimer:
			w.copyFrom(t.length(), at-(s.primerAt+t.off()))
		case tokPrev:
			w.copyFrom(t.length(), at-(prev.at+t.off()))
		}
		at += t.length()
	}
}

// like is the recent event the next one, u, is best matched against: the
// newest of its kind, or else the newest, while all of it is in reach.
func (s *unitStream) like(u *unit) *sentUnit {
	end := s.pos + len(u.plain)
	var newest *sentUnit
	for i := len(s.recent) - 1; i >= 0; i-- {
		r := &s.recent[i]
		if r.u == nil || end-r.at > windowSize { // remember keeps none too long to match
			continue
		}
		if r.u.kind == u.kind {
			return r
		}
		if newest == nil {
			newest = r
		}
	}
	return newest
}

// remember notes u as sent at the stream's position. One too long to be
// matched against is not kept: an idle stream would hold it for nothing.
func (s *unitStream) remember(u *unit) {
	if len(u.plain) > maxSource {
		u = nil
	}
	copy(s.recent[:], s.recent[1:])
	s.recent[len(s.recent)-1] = sentUnit{u, s.pos}
}

// renewPrimer puts the primer back at the end of the window before it
// slides out: as copies of the last one while that is in reach, else
// compressed anew.
func (s *unitStream) renewPrimer(w *bitWriter) {
	c := s.codec
	distance := s.pos - s.primerAt
	if distance > windowSize {
		w.out = append(w.out, c.primed...)
	} else {
		w.put(fixedBlockStart, 3)
		for left := len(c.primer); left > 0; {
			n := min(maxMatch, left)
			if rest := left - n; rest > 0 && rest < 3 {
				n -= 3 - rest // a copy is three bytes at least
			}
			w.copyFrom(n, distance)
			left -= n
		}
		w.align()
	}
	s.primerAt, s.pos = s.pos, s.pos+len(c.primer)
	s.note(c.primer)
}

package hub

import (
	"encoding/binary"
	"slices"
	"sync"
)

// The match search of a compressed stream (gzip.go): done once per event
// and kept, so that what each stream does per event is only to write the
// matches down with its own distances (deflate.go).

// A token is a run of literal bytes (where they start in the event's
// text, and how many: a token per byte would keep four bytes for each) or
// a match. A match copies from the event itself (at a distance), from the
// primer or from an earlier event of the stream (at an offset into its
// text): the last two lie at a distance only a stream knows.
type token uint32

const (
	tokLiterals = iota // off is where the run starts in the event's text
	tokSelf            // off is the distance less one
	tokPrimer          // off is where the copy starts in the primer
	tokPrev            // off is where the copy starts in the earlier event
)

const (
	minMatch   = 4 // three bytes at a far distance cost more than as literals
	maxMatch   = 258
	windowSize = 1 << 15
	// maxSource bounds the primer and an earlier event a match may copy
	// from: both must lie within the window behind an event.
	maxSource = windowSize / 2
	hashBits  = 12
	maxChain  = 48 // candidates tried per position: events are short
)

const maxRun = 256

// literals is a run of n literal bytes from off.
func literals(off, n int) token { return token(n-1) | token(off)<<10 }

func match(kind int, length, off int) token {
	return token(length-3) | token(kind)<<8 | token(off)<<10
}

func (t token) kind() int   { return int(t>>8) & 3 }
func (t token) length() int { return int(t&0xff) + 3 }
func (t token) run() int    { return int(t&0xff) + 1 }
func (t token) off() int    { return int(t >> 10) }

// matchEvent finds text's matches against itself, primer and prev (either
// may be empty). Copies never run from one source into the next: in a
// stream they do not lie side by side.
func matchEvent(primer, prev, text []byte) []token {
	m := matchers.Get().(*matcher)
	defer m.release()
	m.buf = append(append(append(m.buf[:0], primer...), prev...), text...)
	m.chain = slices.Grow(m.chain[:0], len(m.buf))[:len(m.buf)]
	m.primerEnd, m.prevEnd = len(primer), len(primer)+len(prev)
	for i := range m.head {
		m.head[i] = -1
	}
	buf := m.buf
	for i := 0; i < m.prevEnd; i++ {
		m.insert(i)
	}
	tokens := make([]token, 0, len(text)/16)
	for i := m.prevEnd; i < len(buf); {
		length, from := m.longest(i)
		if length >= minMatch {
			// Lazy: a longer match one byte on is worth a literal.
			m.insert(i)
			if next, _ := m.longest(i + 1); next > length+1 {
				tokens = appendLiteral(tokens, i-m.prevEnd)
				i++
				continue
			}
			for j := i + 1; j < i+length; j++ {
				m.insert(j)
			}
			tokens = append(tokens, m.token(i, from, length))
			i += length
			continue
		}
		m.insert(i)
		tokens = appendLiteral(tokens, i-m.prevEnd)
		i++
	}
	return slices.Clip(tokens)
}

// appendLiteral adds the literal at off of the event's text: to the run
// before it where that ends there.
func appendLiteral(tokens []token, off int) []token {
	if n := len(tokens); n > 0 {
		last := tokens[n-1]
		if last.kind() == tokLiterals && last.off()+last.run() == off && last.run() < maxRun {
			tokens[n-1] = literals(last.off(), last.run()+1)
			return tokens
		}
	}
	return append(tokens, literals(off, 1))
}

// matchers recycles the search's tables: an event's search would
// otherwise leave 20 KB or more to collect.
var matchers = sync.Pool{New: func() any { return new(matcher) }}

func (m *matcher) release() {
	if cap(m.buf) > 64<<10 { // a huge event's are not kept
		m.buf, m.chain = nil, nil
	}
	matchers.Put(m)
}

type matcher struct {
	buf                []byte
	head               [1 << hashBits]int32
	chain              []int32 // the previous position with the same hash
	primerEnd, prevEnd int
}

func (m *matcher) hash(i int) uint32 {
	return binary.LittleEndian.Uint32(m.buf[i:]) * 2654435761 >> (32 - hashBits)
}

// insert records position i, where four bytes start.
func (m *matcher) insert(i int) {
	if i+minMatch > len(m.buf) {
		return
	}
	h := m.hash(i)
	m.chain[i] = m.head[h]
	m.head[h] = int32(i)
}

// longest is the longest match for position i and where it starts; the
// nearest of equal ones, as a shorter distance costs fewer bits.
func (m *matcher) longest(i int) (length, from int) {
	if i+minMatch > len(m.buf) {
		return 0, 0
	}
	tries := maxChain
	for c := int(m.head[m.hash(i)]); c >= 0 && tries > 0; c = int(m.chain[c]) {
		if c >= i {
			continue // i itself, recorded by a lazy look
		}
		tries--
		limit := m.limit(i, c)
		if limit <= length {
			continue
		}
		n := 0
		for n < limit && m.buf[c+n] == m.buf[i+n] {
			n++
		}
		if n > length {
			length, from = n, c
			if n == maxMatch {
				break
			}
		}
	}
	return length, from
}

// limit is how long a copy from c to i may run: within its source, and
// within the window where it is the event's own text.
func (m *matcher) limit(i, c int) int {
	end := len(m.buf)
	switch {
	case c < m.primerEnd:
		end = i + (m.primerEnd - c)
	case c < m.prevEnd:
		end = i + (m.prevEnd - c)
	case i-c > windowSize:
		return 0
	}
	return min(maxMatch, end-i, len(m.buf)-i)
}

func (m *matcher) token(i, from, length int) token {
	switch {
	case from < m.primerEnd:
		return match(tokPrimer, length, from)
	case from < m.prevEnd:
		return match(tokPrev, length, from-m.primerEnd)
	}
	return match(tokSelf, length, i-from-1)
}

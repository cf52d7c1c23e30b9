package hub

import "math/bits"

// Writing an event's matches (lz77.go) as deflate with the fixed Huffman
// codes of RFC 1951 (3.2.6): an event is too short to pay for a code table
// of its own. Only this writing is per stream, as only the stream knows how
// far back the primer and its earlier events lie.

type huffCode struct {
	bits uint32 // written least significant bit first
	n    uint8
}

var (
	literalCodes [257]huffCode          // bytes and the end of a block
	lengthCodes  [maxMatch + 1]huffCode // a length's symbol and extra bits together
)

var (
	lengthBase  = [...]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [...]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
)

// fixedCode is the fixed Huffman code of a literal/length symbol.
func fixedCode(sym int) huffCode {
	var code, n int
	switch {
	case sym < 144:
		code, n = 0x30+sym, 8
	case sym < 256:
		code, n = 0x190+sym-144, 9
	case sym < 280:
		code, n = sym-256, 7
	default:
		code, n = 0xc0+sym-280, 8
	}
	return huffCode{reversed(uint32(code), n), uint8(n)}
}

func reversed(code uint32, n int) uint32 { return bits.Reverse32(code) >> (32 - n) }

func init() {
	for b := range literalCodes {
		literalCodes[b] = fixedCode(b)
	}
	for i, base := range lengthBase {
		top := maxMatch
		if i+1 < len(lengthBase) {
			top = lengthBase[i+1] - 1
		}
		if base == maxMatch {
			top = maxMatch
		}
		sym := fixedCode(257 + i)
		for length := base; length <= top; length++ {
			extra := uint32(length - base)
			lengthCodes[length] = huffCode{sym.bits | extra<<sym.n, sym.n + lengthExtra[i]}
		}
	}
}

const endOfBlock = 256

// fixedBlockStart opens a fixed-code block that is not the last:
// BFINAL 0, then BTYPE 01.
const fixedBlockStart = 0b010

// bitWriter packs codes into bytes, least significant bit first.
type bitWriter struct {
	acc uint64
	n   uint
	out []byte
}

func (w *bitWriter) put(b uint32, n uint8) {
	w.acc |= uint64(b) << w.n
	w.n += uint(n)
	for w.n >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

// copyFrom writes a match of length bytes from distance back.
func (w *bitWriter) copyFrom(length, distance int) {
	c := lengthCodes[length]
	w.put(c.bits, c.n)
	d := uint32(distance - 1)
	if d < 4 {
		w.put(reversed(d, 5), 5)
		return
	}
	top := bits.Len32(d) // at least 3
	extra := top - 2
	code := uint32(2*(top-1)) + (d>>extra)&1
	w.put(reversed(code, 5), 5)
	w.put(d&(1<<extra-1), uint8(extra))
}

// align ends the open block with an empty stored one, as a sync flush
// does: what follows starts on a byte and a block of its own. Each event
// ends so: decoders hand out what they hold at a stored block (Go's does
// not at the end of any other), and its bytes go out whole.
func (w *bitWriter) align() {
	w.endBlock()
	w.put(0, 3) // BFINAL 0, BTYPE 00: stored
	w.pad()
	w.out = append(w.out, 0, 0, 0xff, 0xff)
}

// endBlock ends the open fixed-code block.
func (w *bitWriter) endBlock() {
	eob := literalCodes[endOfBlock]
	w.put(eob.bits, eob.n)
}

// pad fills the last byte with zero bits.
func (w *bitWriter) pad() {
	if w.n > 0 {
		w.put(0, uint8(8-w.n))
	}
}

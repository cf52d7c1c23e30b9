package wsock

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"sync"
	"unicode/utf8"
)

// protocolError is a client's breach of the protocol: the socket is
// closed with its code.
type protocolError struct {
	code StatusCode
	why  string
}

func (e *protocolError) Error() string { return "websocket: " + e.why }

func breach(code StatusCode, why string) error { return &protocolError{code, why} }

// Read returns the client's next message, inflated if it came compressed,
// and whether it is binary. Pings are answered and pongs noted on the way.
// Once the client has closed the socket (CloseError), or broken the
// protocol (the socket is then closed with the matching code), or the
// connection has failed, it returns that error from then on.
func (c *Conn) Read() (binary bool, msg []byte, err error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.readErr != nil {
		return false, nil, c.readErr
	}
	return c.readMessage()
}

// frameHeader is what a frame's header says (RFC 6455 5.2).
type frameHeader struct {
	fin, rsv1, rsv23, masked bool
	op                       byte
	length                   int64
	mask                     [4]byte
}

// readMessage reads frames until a message is whole. c.rmu is held.
func (c *Conn) readMessage() (bool, []byte, error) {
	var msg []byte
	op, compressed := -1, false // op: the message's, once its first frame came
	for {
		f, err := c.readHeader()
		if err != nil {
			return c.stop(err)
		}
		if f.op >= opClose {
			if err := c.control(f); err != nil {
				return c.stop(err)
			}
			continue
		}
		if err := checkDataFrame(f, op >= 0, c.deflate); err != nil {
			return c.stop(err)
		}
		if op < 0 {
			op, compressed = int(f.op), f.rsv1
		}
		if f.length > c.limit-int64(len(msg)) { // the sum could wrap: a length may be near 2⁶³
			return c.stop(breach(StatusMessageTooBig, "message over the read limit"))
		}
		if msg, err = c.readPayload(msg, f); err != nil {
			return c.stop(err)
		}
		if !f.fin {
			continue
		}
		if compressed {
			if msg, err = c.inflate(msg); err != nil {
				return c.stop(err)
			}
		}
		if op == opText && !utf8.Valid(msg) {
			return c.stop(breach(StatusInvalidData, "a text message that is not UTF-8"))
		}
		return op == opBinary, msg, nil
	}
}

// checkDataFrame tells what is wrong with a data frame, given whether a
// fragmented message is under way and whether compression was agreed.
func checkDataFrame(f frameHeader, midMessage, deflate bool) error {
	switch {
	case !f.masked:
		return breach(StatusProtocolError, "an unmasked frame from the client")
	case f.rsv23:
		return breach(StatusProtocolError, "reserved bits set")
	case f.op == opContinue && !midMessage:
		return breach(StatusProtocolError, "a continuation with no message to continue")
	case f.op == opContinue && f.rsv1:
		return breach(StatusProtocolError, "RSV1 on a continuation frame")
	case f.op != opContinue && f.op != opText && f.op != opBinary:
		return breach(StatusProtocolError, "an unknown opcode")
	case f.op != opContinue && midMessage:
		return breach(StatusProtocolError, "a new message inside a fragmented one")
	case f.rsv1 && !deflate:
		return breach(StatusProtocolError, "a compressed message with no compression agreed")
	}
	return nil
}

func (c *Conn) readHeader() (frameHeader, error) {
	var f frameHeader
	b := c.head[:]
	if _, err := io.ReadFull(c.in, b[:2]); err != nil {
		return f, err
	}
	f.fin, f.rsv1, f.rsv23 = b[0]&0x80 != 0, b[0]&0x40 != 0, b[0]&0x30 != 0
	f.op, f.masked = b[0]&0x0f, b[1]&0x80 != 0
	f.length = int64(b[1] & 0x7f)
	extra := 0
	switch f.length {
	case 126:
		extra = 2
	case 127:
		extra = 8
	}
	rest := b[2 : 2+extra]
	if f.masked {
		rest = b[2 : 2+extra+4]
	}
	if _, err := io.ReadFull(c.in, rest); err != nil {
		return f, err
	}
	switch extra {
	case 2:
		f.length = int64(binary.BigEndian.Uint16(rest))
	case 8:
		n := binary.BigEndian.Uint64(rest)
		if n>>63 != 0 {
			return f, breach(StatusProtocolError, "a frame length with its top bit set")
		}
		f.length = int64(n)
	}
	if f.masked {
		copy(f.mask[:], rest[extra:])
	}
	return f, nil
}

// readPayload appends f's payload, unmasked, to msg. It grows msg as
// the bytes come, not by the length the header claims: a client that
// claims 64 KB and sends it slowly holds no 64 KB meanwhile.
func (c *Conn) readPayload(msg []byte, f frameHeader) ([]byte, error) {
	start := len(msg)
	for left := int(f.length); left > 0; {
		k := min(left, 4<<10)
		msg = slices.Grow(msg, k)[:len(msg)+k]
		if _, err := io.ReadFull(c.in, msg[len(msg)-k:]); err != nil {
			return msg, err
		}
		left -= k
	}
	for i := range msg[start:] {
		msg[start+i] ^= f.mask[i&3]
	}
	return msg, nil
}

// control handles a control frame: a ping is answered, a pong noted, a
// close answered with the same code (RFC 6455 5.5.1), ending reading.
func (c *Conn) control(f frameHeader) error {
	switch {
	case !f.masked:
		return breach(StatusProtocolError, "an unmasked frame from the client")
	case !f.fin || f.length > 125:
		return breach(StatusProtocolError, "a fragmented or long control frame")
	case f.rsv1 || f.rsv23:
		return breach(StatusProtocolError, "reserved bits on a control frame")
	case f.op > opPong:
		return breach(StatusProtocolError, "an unknown opcode")
	}
	var buf [125]byte
	p, err := c.readPayload(buf[:0], f)
	if err != nil {
		return err
	}
	switch f.op {
	case opPing:
		c.writeFrame(opPong, false, p, c.writeTimeout) // a failed write shows on the next one
	case opPong:
		select {
		case c.pong <- struct{}{}:
		default:
		}
	case opClose:
		code, err := closeCode(p)
		if err != nil {
			return err
		}
		c.writeFrame(opClose, false, p[:min(len(p), 2)], c.writeTimeout) // ErrClosed if the server closed first
		c.nc.Close()
		return CloseError{code}
	}
	return nil
}

// closeCode reads a close frame's code, checking it as RFC 6455 7.4 asks.
func closeCode(p []byte) (StatusCode, error) {
	switch {
	case len(p) == 0:
		return StatusNoStatus, nil
	case len(p) == 1:
		return 0, breach(StatusProtocolError, "a one-byte close frame")
	case !utf8.Valid(p[2:]):
		return 0, breach(StatusInvalidData, "a close reason that is not UTF-8")
	}
	code := StatusCode(binary.BigEndian.Uint16(p))
	if code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999 {
		return code, nil
	}
	return 0, breach(StatusProtocolError, "a close code that may not be sent")
}

// stop ends reading with err; a breach of the protocol closes the socket
// with its code first.
func (c *Conn) stop(err error) (bool, []byte, error) {
	var pe *protocolError
	if errors.As(err, &pe) {
		c.sendClose(pe.code, c.writeTimeout)
		c.nc.Close()
	}
	c.readErr = err
	c.once.Do(func() { close(c.done) })
	return false, nil, err
}

// deflateEnd completes a message compressed as permessage-deflate sends it:
// the 00 00 ff ff it was sent without, then an empty last block, so the
// inflater ends cleanly.
var deflateEnd = []byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}

var inflaters sync.Pool

// inflate decompresses a client's message, compressed on its own (the
// socket agreed client_no_context_takeover). Its inflated size is held to
// the read limit: a few bytes can inflate to gigabytes.
func (c *Conn) inflate(p []byte) ([]byte, error) {
	src := bytes.NewReader(append(p, deflateEnd...))
	fr, _ := inflaters.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReader(src)
	} else {
		fr.(flate.Resetter).Reset(src, nil)
	}
	out, err := io.ReadAll(io.LimitReader(fr, c.limit+1))
	fr.(flate.Resetter).Reset(bytes.NewReader(nil), nil) // a pooled inflater keeps no message
	inflaters.Put(fr)
	switch {
	case err != nil:
		return nil, breach(StatusInvalidData, "a compressed message that does not inflate")
	case int64(len(out)) > c.limit:
		return nil, breach(StatusMessageTooBig, "message over the read limit")
	}
	return out, nil
}

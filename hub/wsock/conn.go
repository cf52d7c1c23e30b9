package wsock

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// StatusCode is a close frame's code (RFC 6455 7.4).
type StatusCode uint16

const (
	StatusNormal          StatusCode = 1000
	StatusGoingAway       StatusCode = 1001
	StatusProtocolError   StatusCode = 1002
	StatusNoStatus        StatusCode = 1005 // none was given: never sent
	StatusInvalidData     StatusCode = 1007 // a text message that is not UTF-8
	StatusPolicyViolation StatusCode = 1008
	StatusMessageTooBig   StatusCode = 1009
)

// CloseError is what Read returns once the client has closed the socket.
type CloseError struct{ Code StatusCode }

func (e CloseError) Error() string { return fmt.Sprintf("websocket: closed with status %d", e.Code) }

// ErrClosed is returned by writes once the socket is closing.
var ErrClosed = errors.New("websocket: closed")

// Opcodes (RFC 6455 5.2).
const (
	opContinue = 0
	opText     = 1
	opBinary   = 2
	opClose    = 8
	opPing     = 9
	opPong     = 10
)

// Conn is an accepted WebSocket. One goroutine reads (Read); any may
// write, one frame at a time.
type Conn struct {
	nc           net.Conn
	in           io.Reader // nc, behind what the handshake had buffered
	deflate      bool
	limit        int64
	writeTimeout time.Duration

	rmu     sync.Mutex // one reader at a time: Read, or Close draining
	readErr error      // sticky: the reason reading stopped
	head    [14]byte   // the frame header being read

	wmu       sync.Mutex // one frame written at a time
	closeSent bool

	pong chan struct{} // a pong came
	done chan struct{} // reading has stopped
	once sync.Once
}

func newConn(nc net.Conn, in io.Reader, deflate bool, opt Options) *Conn {
	c := &Conn{nc: nc, in: in, deflate: deflate, limit: opt.ReadLimit, writeTimeout: opt.WriteTimeout,
		pong: make(chan struct{}, 1), done: make(chan struct{})}
	if c.limit <= 0 {
		c.limit = 64 << 10
	}
	if c.writeTimeout <= 0 {
		c.writeTimeout = 10 * time.Second
	}
	return c
}

// Deflate reports whether permessage-deflate was agreed: whether
// WriteCompressed may be used.
func (c *Conn) Deflate() bool { return c.deflate }

// WriteText sends p as one text message, uncompressed: the compressed
// messages' context does not take it in.
func (c *Conn) WriteText(p []byte, timeout time.Duration) error {
	return c.writeFrame(opText, false, p, timeout)
}

// WriteCompressed sends p, a text message compressed as permessage-deflate
// sends it (raw deflate going on from the last compressed message, less
// the 00 00 ff ff that ends it), as one message.
func (c *Conn) WriteCompressed(p []byte, timeout time.Duration) error {
	if !c.deflate {
		return errors.New("websocket: permessage-deflate was not agreed")
	}
	return c.writeFrame(opText, true, p, timeout)
}

// Ping sends a ping and waits for the pong, at most timeout. Someone must
// be reading (Read) for the pong to be seen.
func (c *Conn) Ping(timeout time.Duration) error {
	select {
	case <-c.pong: // an unasked-for pong answers nothing
	default:
	}
	if err := c.writeFrame(opPing, false, nil, timeout); err != nil {
		return err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.pong:
		return nil
	case <-c.done:
		return ErrClosed
	case <-t.C:
		return errors.New("websocket: no pong")
	}
}

// Close starts the closing handshake with code and waits, at most
// timeout, for the client's close before letting the connection go.
func (c *Conn) Close(code StatusCode, timeout time.Duration) {
	if c.sendClose(code, timeout) == nil {
		// Whoever reads, reads no longer than this; with no one reading,
		// Close reads, for the client's close frame.
		c.nc.SetReadDeadline(time.Now().Add(timeout))
		c.rmu.Lock()
		for c.readErr == nil {
			c.readMessage()
		}
		c.rmu.Unlock()
	}
	c.nc.Close()
}

// CloseNow drops the connection without a handshake: for a client that
// does not read, which would never finish one.
func (c *Conn) CloseNow() { c.nc.Close() }

// sendClose writes a close frame, once.
func (c *Conn) sendClose(code StatusCode, timeout time.Duration) error {
	var p [2]byte
	binary.BigEndian.PutUint16(p[:], uint16(code))
	return c.writeFrame(opClose, false, p[:], timeout)
}

// writeFrame writes one whole frame: a message or a control frame.
// Nothing but the close reply goes out after a close frame.
func (c *Conn) writeFrame(op byte, compressed bool, p []byte, timeout time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return ErrClosed
	}
	c.closeSent = op == opClose
	buf := frames.Get().(*[]byte)
	b := append(appendHeader((*buf)[:0], op, compressed, len(p)), p...)
	c.nc.SetWriteDeadline(time.Now().Add(timeout))
	_, err := c.nc.Write(b)
	if err != nil {
		// Part of the frame may be out: nothing after it would make sense
		// to the client, not even a close frame.
		c.closeSent = true
		c.nc.Close()
	}
	if cap(b) <= 64<<10 { // a huge message's buffer is not kept
		*buf = b
		frames.Put(buf)
	}
	return err
}

// frames recycles the buffers frames are put together in (header and
// payload, for one write), so an idle socket holds none.
var frames = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendHeader appends a server frame's header: final, unmasked.
func appendHeader(b []byte, op byte, compressed bool, n int) []byte {
	first := 0x80 | op
	if compressed {
		first |= 0x40 // RSV1: permessage-deflate
	}
	switch {
	case n <= 125:
		return append(b, first, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, first, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, first, 127), uint64(n))
	}
}

package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// dialSocket opens acct's stream over the WebSocket (/ws) as a browser
// does: offering permessage-deflate, and inflating the socket's messages
// as one deflate stream, the context a browser keeps. (A client library
// that copies its 32 KB window into a fresh inflater for every message
// would make the generator, not the server, the bottleneck.) The wire
// bytes counted are what the socket reads: frames and compression
// included.
func dialSocket(ctx context.Context, addr string, acct *account, after int64, seen *seenSet, onEvent func(*stream, delivery)) (*stream, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &stream{acct: acct, conn: conn, done: make(chan struct{}), seen: seen}
	fmt.Fprintf(conn, "GET /ws?after=%d HTTP/1.1\r\nHost: %s\r\nCookie: rtm_session=%s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
		after, addr, acct.token)
	br, _, err := s.readHead(http.StatusSwitchingProtocols, "socket")
	if err != nil {
		return nil, err
	}
	messages := make(chan wsMessage, 64)
	go readSocket(conn, br, messages)
	go s.readMessages(messages, onEvent)
	return s, nil
}

// wsMessage is one message off the socket, compressed or not.
type wsMessage struct {
	payload    []byte
	compressed bool
}

// readSocket reads the server's frames (whole and unmasked, as the
// server sends them), answers pings, and hands on the messages.
func readSocket(conn net.Conn, br *bufio.Reader, out chan<- wsMessage) {
	defer close(out)
	var head [10]byte
	for {
		if _, err := io.ReadFull(br, head[:2]); err != nil {
			return
		}
		n := uint64(head[1] & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(br, head[2:4]); err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(head[2:4]))
		case 127:
			if _, err := io.ReadFull(br, head[2:10]); err != nil {
				return
			}
			n = binary.BigEndian.Uint64(head[2:10])
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return
		}
		switch head[0] & 0x0f {
		case 1: // text
			out <- wsMessage{payload, head[0]&0x40 != 0}
		case 8: // close
			return
		case 9: // ping: a pong, masked as a client's frames must be
			pong := append([]byte{0x8a, 0x80 | byte(n), 0, 0, 0, 0}, payload...)
			if _, err := conn.Write(pong); err != nil {
				return
			}
		}
	}
}

// readMessages inflates the socket's messages and counts each delivery.
func (s *stream) readMessages(in <-chan wsMessage, onEvent func(*stream, delivery)) {
	defer close(s.done)
	handle := func(frame []byte) {
		id := frameID(frame)
		if id <= 0 {
			return // a primer, or a notice
		}
		s.lastID.Store(id)
		var ev event
		socketMarkers.scan(frame, &ev)
		if d, ok := ev.delivery(id, time.Now()); ok {
			onEvent(s, d)
		}
	}
	feed := &deflateFeed{in: in, whole: handle}
	fr := flate.NewReader(feed)
	buf := make([]byte, 4096)
	for {
		n, err := fr.Read(buf)
		feed.out = append(feed.out, buf[:n]...)
		if err != nil {
			s.err = err
			return
		}
	}
}

// deflateFeed gives the inflater the compressed messages one after
// another, each with the 00 00 ff ff it was sent without. The inflater
// asks for more only once it has put out all it holds (a message ends on
// an empty stored block, where it hands out everything), so when the feed
// runs dry the message before is whole in out. Plain messages pass by.
type deflateFeed struct {
	in      <-chan wsMessage
	pending []byte
	out     []byte // what the inflater has put out of the current message
	inMsg   bool
	whole   func([]byte)
}

func (f *deflateFeed) ReadByte() (byte, error) {
	for len(f.pending) == 0 {
		if f.inMsg {
			f.whole(f.out)
			f.out, f.inMsg = f.out[:0], false
		}
		m, ok := <-f.in
		if !ok {
			return 0, io.EOF
		}
		if !m.compressed {
			f.whole(m.payload)
			continue
		}
		f.pending, f.inMsg = append(m.payload, 0, 0, 0xff, 0xff), true
	}
	b := f.pending[0]
	f.pending = f.pending[1:]
	return b, nil
}

func (f *deflateFeed) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b, err := f.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = b
	n := 1 + copy(p[1:], f.pending)
	f.pending = f.pending[n-1:]
	return n, nil
}

// frameID reads the id at the start of a frame: {"id":123,...}.
func frameID(frame []byte) int64 {
	rest, ok := bytes.CutPrefix(frame, []byte(`{"id":`))
	if !ok {
		return 0
	}
	end := bytes.IndexByte(rest, ',')
	if end < 0 {
		return 0
	}
	id, _ := strconv.ParseInt(string(rest[:end]), 10, 64)
	return id
}

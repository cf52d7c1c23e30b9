package hub

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// sink is where a stream's bytes go. On HTTP/1.1 the hub takes the raw
// connection over (hijacks it): net/http's per-connection buffers and
// goroutines are freed and the stream runs on a goroutine with a small
// stack, which roughly halves the memory an idle stream costs. Elsewhere
// (HTTP/2) it writes through net/http as usual.
type sink interface {
	http.ResponseWriter
	flush() error
	setWriteDeadline(time.Time) error
	// keepsDeadline is false where flush clears the write deadline (see
	// httpSink), so the next write must set it again.
	keepsDeadline() bool
	close()
}

// newSink hijacks w's connection if it can. raw tells which it did; conn
// is the raw connection then.
func newSink(w http.ResponseWriter) (s sink, conn net.Conn) {
	rc := http.NewResponseController(w)
	c, brw, err := rc.Hijack()
	if err != nil {
		return &httpSink{ResponseWriter: w, rc: rc}, nil
	}
	// A stream request has no body; anything still buffered would be a
	// pipelined request, which a stream answer ends anyway.
	discardBuffers(brw)
	return &rawSink{conn: c, header: http.Header{}}, c
}

func discardBuffers(brw *bufio.ReadWriter) {
	brw.Reader.Reset(nil)
	brw.Writer.Reset(nil)
}

// httpSink writes through net/http.
type httpSink struct {
	http.ResponseWriter
	rc *http.ResponseController
}

// flush clears the write deadline once the data is out: on HTTP/2 a
// deadline resets the stream when it passes even with nothing being
// written, which would end every quiet stream between heartbeats.
func (s *httpSink) flush() error {
	if err := s.rc.Flush(); err != nil {
		return err
	}
	return s.rc.SetWriteDeadline(time.Time{})
}

func (s *httpSink) setWriteDeadline(t time.Time) error { return s.rc.SetWriteDeadline(t) }
func (s *httpSink) keepsDeadline() bool                { return false }
func (s *httpSink) close()                             {}

// rawSink writes an HTTP/1.1 response itself on a hijacked connection. The
// body is delimited by closing the connection, which SSE clients expect of
// a stream's end anyway.
type rawSink struct {
	conn        net.Conn
	header      http.Header
	wroteHeader bool
	buf         *[]byte // taken from bufs while data waits, nil when idle
}

// bufs recycles write buffers, so an idle stream holds none.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func (s *rawSink) Header() http.Header {
	if s.header == nil { // written already: changes would be lost anyway
		return http.Header{}
	}
	return s.header
}

func (s *rawSink) WriteHeader(code int) {
	if s.wroteHeader {
		return
	}
	s.wroteHeader = true
	b := s.take()
	*b = append(*b, "HTTP/1.1 "...)
	*b = strconv.AppendInt(*b, int64(code), 10)
	*b = append(*b, ' ')
	*b = append(*b, http.StatusText(code)...)
	*b = append(*b, "\r\n"...)
	s.header.Set("Connection", "close")
	s.header.Set("X-Content-Type-Options", "nosniff")
	for k, vs := range s.header {
		for _, v := range vs {
			*b = append(*b, k...)
			*b = append(*b, ": "...)
			*b = append(*b, v...)
			*b = append(*b, "\r\n"...)
		}
	}
	*b = append(*b, "\r\n"...)
	s.header = nil
}

func (s *rawSink) Write(p []byte) (int, error) {
	if !s.wroteHeader {
		s.WriteHeader(http.StatusOK)
	}
	b := s.take()
	*b = append(*b, p...)
	if len(*b) >= 64<<10 { // a huge backlog goes out rather than piling up
		return len(p), s.flush()
	}
	return len(p), nil
}

func (s *rawSink) take() *[]byte {
	if s.buf == nil {
		s.buf = bufs.Get().(*[]byte)
	}
	return s.buf
}

func (s *rawSink) flush() error {
	if s.buf == nil {
		return nil
	}
	_, err := s.conn.Write(*s.buf)
	*s.buf = (*s.buf)[:0]
	if cap(*s.buf) <= 64<<10 {
		bufs.Put(s.buf)
	}
	s.buf = nil
	return err
}

func (s *rawSink) setWriteDeadline(t time.Time) error { return s.conn.SetWriteDeadline(t) }

// keepsDeadline: a socket's deadline only bounds writes, so one left set
// while the stream is quiet does no harm.
func (s *rawSink) keepsDeadline() bool { return true }

func (s *rawSink) close() {
	if s.buf != nil {
		s.flush()
	}
	s.conn.Close()
}

// watchClose cancels a raw stream when its client goes away, where no
// closeWatch can (see closewatch_linux.go): reading
// returns only at the client's end (or when the hub closes the connection).
func watchClose(c net.Conn, cancel func()) {
	var b [1]byte
	c.Read(b[:])
	cancel()
}

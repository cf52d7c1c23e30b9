package handlers

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"
)

// loggedWriter counts what a response sends and logs the request when it
// is over: when the handler returns, or, once the connection was
// hijacked, when the handler has returned, the connection is closed and
// no write to it is in flight (whichever comes last logs).
type loggedWriter struct {
	http.ResponseWriter
	status  atomic.Int32 // atomics: a hijacked connection is written and closed on other goroutines
	bytes   atomic.Int64
	pending atomic.Int32 // the handler, the hijacked connection until closed, and its writes in flight

	// What the log line needs. r is let go once the connection is
	// hijacked: a stream may live for hours, and its line keeps nothing
	// of the request.
	h      *Handler
	r      *http.Request
	lookup func(*http.Request) string // the route, where no mux recorded one
	method string
	info   *requestInfo
	start  time.Time
}

// wrapped returns w as the handlers get it: able to hijack only where the
// server's own writer is (HTTP/1.x), so that code choosing a transport by
// what the writer can do (the WebSocket library) chooses as before.
func (w *loggedWriter) wrapped() http.ResponseWriter {
	if _, ok := w.ResponseWriter.(http.Hijacker); ok {
		return hijackableWriter{w}
	}
	return w
}

func (w *loggedWriter) WriteHeader(code int) {
	// 1xx but 101 are interim answers; the final status comes after them.
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.status.CompareAndSwap(0, int32(code))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *loggedWriter) Write(p []byte) (int, error) {
	w.status.CompareAndSwap(0, http.StatusOK)
	n, err := w.ResponseWriter.Write(p)
	w.bytes.Add(int64(n))
	return n, err
}

// Flush is for code that asserts http.Flusher (r3labs/sse does).
func (w *loggedWriter) Flush() { _ = w.FlushError() }

func (w *loggedWriter) FlushError() error {
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach deadlines and the rest.
func (w *loggedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// hold adds an end to wait for, unless the line was logged already.
func (w *loggedWriter) hold() bool {
	for {
		n := w.pending.Load()
		if n <= 0 {
			return false
		}
		if w.pending.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// finish is one of the request's ends; the last logs it.
func (w *loggedWriter) finish() {
	if w.pending.Add(-1) != 0 {
		return
	}
	status := int(w.status.Load())
	if status == 0 {
		status = http.StatusOK // nothing written: net/http answers 200
	}
	w.settleRoute()
	w.h.logRequest(w.method, w.info, status, w.bytes.Load(), time.Since(w.start))
}

// settleRoute finds the route while the request is still at hand.
func (w *loggedWriter) settleRoute() {
	if w.info.route == "" && w.r != nil {
		w.info.route = w.lookup(w.r)
	}
}

type hijackableWriter struct{ *loggedWriter }

// gone stands for net/http's writer once the connection is hijacked: like
// it, it refuses to write.
type gone struct{}

func (gone) Header() http.Header       { return http.Header{} }
func (gone) Write([]byte) (int, error) { return 0, http.ErrHijacked }
func (gone) WriteHeader(int)           {}
func (gone) FlushError() error         { return http.ErrHijacked }

func (w hijackableWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return c, brw, err
	}
	w.pending.Add(1)
	w.settleRoute()
	w.r = nil
	w.ResponseWriter = gone{} // net/http's writer is done with: let it go
	lc := &loggedConn{Conn: c, w: w.loggedWriter}
	// The buffered writer net/http hands over is empty and writes to the
	// bare connection; pointed at ours, what goes through it counts too.
	if brw.Writer.Buffered() == 0 {
		brw.Writer.Reset(lc)
	}
	return lc, brw, nil
}

// loggedConn is a hijacked connection: it counts what is written to it,
// takes the status from the response line its new owner writes (the hub
// writes HTTP/1.1 itself), and ends the request's log on Close (or, if a
// write is in flight then, when that write returns).
type loggedConn struct {
	net.Conn
	w      *loggedWriter
	closed atomic.Bool
}

func (c *loggedConn) Write(p []byte) (int, error) {
	if c.w.status.Load() == 0 {
		c.w.status.CompareAndSwap(0, int32(statusLineCode(p)))
	}
	// The write holds the line back while it runs: the peer can read
	// these bytes and close, and the close come, before this goroutine
	// counts them. Whichever of the close and the writes in flight ends
	// last logs, with what was sent.
	held := c.w.hold()
	n, err := c.Conn.Write(p)
	c.w.bytes.Add(int64(n))
	if held {
		c.w.finish()
	}
	return n, err
}

// SyscallConn reaches the socket under the count, for the hub to watch
// its stream without a goroutine of its own.
func (c *loggedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

func (c *loggedConn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.w.finish()
	}
	return err
}

// statusLineCode reads the status code of an "HTTP/1.1 200 OK" line at the
// start of p, or returns 0.
func statusLineCode(p []byte) int {
	const prefix = "HTTP/1.x "
	if len(p) < len(prefix)+3 || string(p[:5]) != "HTTP/" {
		return 0
	}
	code := 0
	for _, c := range p[len(prefix) : len(prefix)+3] {
		if c < '0' || c > '9' {
			return 0
		}
		code = code*10 + int(c-'0')
	}
	return code
}

var _ syscall.Conn = (*loggedConn)(nil) // see SyscallConn

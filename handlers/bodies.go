package handlers

import (
	"io"
	"net/http"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// maxBodyBytes is the largest body any route takes (a people import); a
// request that declares more is refused before a byte of it is read.
const maxBodyBytes = chat.MaxImportBytes + 64<<10

// Every body must arrive within a grace (Deps.BodyGrace, 10 s) plus the
// time it takes at bodyMinRate: a 64 KiB form gets 14 s, a 2 MiB import 2
// minutes 18 s. A client that trickles a body slower than that, or
// declares a length it never sends, is cut off instead of holding a
// connection forever.
const bodyMinRate = 16 << 10 // bytes per second

// bodyDeadline bounds the reading of every request body. Headers have
// their own deadline (the server's ReadHeaderTimeout); a request without a
// body needs none here, and a stream (which has none) must not get one.
// A reply sent before the body was read closes the connection, so the
// server does not wait for the rest of it either.
func (h *Handler) bodyDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > maxBodyBytes {
			w.Header().Set("Connection", "close")
			http.Error(w, "The request is too large.", http.StatusRequestEntityTooLarge)
			return
		}
		size := r.ContentLength
		if size < 0 { // chunked: it may be as large as any route takes
			size = maxBodyBytes
		}
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(h.bodyGrace + time.Duration(size)*time.Second/bodyMinRate))
		body := &timedBody{ReadCloser: r.Body, rc: rc}
		r.Body = body
		next.ServeHTTP(&unreadBodyWriter{ResponseWriter: w, body: body}, r)
	})
}

// timedBody lifts the body's read deadline once the body is all read: from
// then on the server only watches for the client going away, which may
// rightly take as long as the handler does.
type timedBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	read bool // read to the end
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.read {
		b.read = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// unreadBodyWriter closes the connection after a reply to a request whose
// body was not read to the end. Otherwise the server would first read the
// rest (up to 256 KiB) to reuse the connection, waiting on a slow sender
// until the deadline.
type unreadBodyWriter struct {
	http.ResponseWriter
	body    *timedBody
	replied bool
}

func (w *unreadBodyWriter) reply() {
	if w.replied || w.body.read {
		return
	}
	w.replied = true
	w.Header().Set("Connection", "close")
	// What is left of the body is not wanted: reading it fails at once.
	_ = w.body.rc.SetReadDeadline(time.Unix(1, 0))
}

func (w *unreadBodyWriter) WriteHeader(code int) {
	w.reply()
	w.ResponseWriter.WriteHeader(code)
}

func (w *unreadBodyWriter) Write(p []byte) (int, error) {
	w.reply()
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *unreadBodyWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

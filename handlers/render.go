package handlers

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/static"
	"github.com/rtmessenger/rtmessenger/views"
)

// maxFormBytes caps request bodies: a 4,000-character message of 4-byte
// characters is 16 KB raw and under 48 KB form-encoded.
const maxFormBytes = 64 << 10

// render writes a complete component or, if rendering fails, an error page;
// it never sends half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	buf := templ.GetBuffer()
	defer releaseRenderBuffer(buf)
	if err := c.Render(r.Context(), buf); err != nil {
		h.fail(w, r, err)
		return
	}
	writeHTML(w, r, status, buf.Bytes())
}

// Pages and answers render into templ's pooled buffers: grown afresh each
// time, they were a fifth of all the bytes a post's request allocated (so
// of the collector's work). maxPooledRender is the largest buffer given
// back: a long room page may need more, once, and should not hold it for
// good (templ's ReleaseBuffer keeps any size).
const maxPooledRender = 256 << 10

func releaseRenderBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledRender {
		templ.ReleaseBuffer(buf)
	}
}

// gzipMin is the size below which compressing costs more than it saves.
const gzipMin = 1024

// gzipWriters compress pages with klauspost/compress, at the standard
// library's default level and to about the same size, in 40% of its time
// (the standard library's writer clears a 512 KB hash table at every
// Reset). smallGzipWriters compress what is at most smallGzipMax, such as
// the 1.3 KB answer to a post, with klauspost's stateless mode, which
// keeps no tables at all: 5 µs there, against 8 at the default level and
// 21 in the standard library, for 4% more bytes.
var (
	gzipWriters      = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}
	smallGzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.StatelessCompression); return w }}
)

// brotliWriters compress whole pages (past smallGzipMax) for clients that
// take brotli: at level 5 a room of 50 messages comes to 2,156 bytes
// against gzip's 2,589, 17% less on every page load over a slow link,
// for 185 µs of compressing instead of 38 (a page's reads and rendering
// cost more). Higher levels gain little more for several times the time.
var brotliWriters = sync.Pool{New: func() any { return brotli.NewWriterLevel(nil, 5) }}

// smallGzipMax is the largest body compressed statelessly: the answer to a
// post (1.3 KB for a short message). Past it, stateless output grows
// fast: the room switch page came to 3.1 KB instead of 2.3.
const smallGzipMax = 2 << 10

// writeHTML sends a rendered page, compressed when the client takes it: chat
// markup repeats itself, so a room of 50 messages shrinks about eight-fold.
func writeHTML(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Add("Vary", "Accept-Encoding")
	// Pages show private conversations: never store them, so Back after
	// log-out shows nothing and a left page is never frozen with its stream.
	hd.Set("Cache-Control", "no-store")
	var writers *sync.Pool
	switch {
	case len(body) > smallGzipMax && static.AcceptsBrotli(r):
		hd.Set("Content-Encoding", "br")
		writers = &brotliWriters
	case len(body) < gzipMin || !static.AcceptsGzip(r):
		w.WriteHeader(status)
		w.Write(body)
		return
	case len(body) <= smallGzipMax:
		hd.Set("Content-Encoding", "gzip")
		writers = &smallGzipWriters
	default:
		hd.Set("Content-Encoding", "gzip")
		writers = &gzipWriters
	}
	w.WriteHeader(status)
	zw := writers.Get().(compressor)
	zw.Reset(w)
	zw.Write(body)
	zw.Close()
	writers.Put(zw)
}

// compressor is what the pooled gzip and brotli writers have in common.
type compressor interface {
	io.WriteCloser
	Reset(io.Writer)
}

// page starts the view model of a full page. For a signed-in user it first
// reads the newest message id: the page's stream resumes from there, so
// anything committed while the rest of the page is read still arrives.
func (h *Handler) page(r *http.Request, title string) (views.Page, error) {
	p, err := h.streamedPage(r, title)
	if u := p.User; u != nil && err == nil {
		freshStash.dropStale(h, r)
		keptStash.dropStale(h, r)
		h.live.Active(u.ID) // opening a page is activity
		p.Peers = h.peers(r.Context(), *u)
		// The page lists the user's conversations with their waiting
		// announcements: those count as delivered now.
		if err := h.announcements.MarkDeliveredTo(r.Context(), u.ID); err != nil {
			h.log.Warn("record announcements delivered", "user", u.ID, "err", err)
		}
	}
	return p, err
}

// streamedPage is the part of a page's view model that every page has,
// error pages too: for a signed-in user, the stream's transport and the
// newest message id it resumes from.
func (h *Handler) streamedPage(r *http.Request, title string) (views.Page, error) {
	// Escaped, as the transport switch sends it back as a redirect target.
	p := views.Page{Title: title, Assets: h.assets, Path: r.URL.EscapedPath(), Heartbeat: h.heartbeat}
	u, ok := userFrom(r)
	if !ok {
		return p, nil
	}
	p.User = &u
	p.Socket = h.wantsSocket(r)
	var err error
	p.StreamAfter, err = h.store.LatestID(r.Context())
	return p, err
}

// parseForm reads a urlencoded form within maxFormBytes.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	// Bodies have a deadline (bodyDeadline): one sent too slowly fails here.
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return chat.Errorf(chat.TooLarge, "The request is too large: the limit is %d KiB.", maxFormBytes>>10)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return chat.Errorf(chat.Invalid, "The form arrived too slowly. Try again.")
		}
		return chat.Errorf(chat.Invalid, "The form could not be read.")
	}
	return nil
}

func roomParam(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("room"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNoRoom
	}
	return id, nil
}

var errNoRoom = chat.Errorf(chat.NotFound, "No such room.")

var statusByCode = map[chat.Code]int{
	chat.Invalid:      http.StatusUnprocessableEntity,
	chat.NotFound:     http.StatusNotFound,
	chat.Forbidden:    http.StatusForbidden,
	chat.Conflict:     http.StatusConflict,
	chat.Unauthorized: http.StatusUnauthorized,
	chat.TooLarge:     http.StatusRequestEntityTooLarge,
	chat.RateLimited:  http.StatusTooManyRequests,
}

func statusOf(err error) int {
	if s, ok := statusByCode[chat.CodeOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// fail answers with err: its status, and its message for the user (a
// generic one for internal errors, which are logged here and only here).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError {
		h.log.Error("request failed", append(failedRequest(r), "err", err)...)
	}
	msg := chat.ErrorText(err)
	if isHTMX(r) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		views.ErrorFragment(msg).Render(r.Context(), w)
		return
	}
	// Where the newest id cannot be read the page opens no stream: one from
	// 0 would have every other tab tell this one to reload, again and again.
	p, unread := h.streamedPage(r, http.StatusText(status))
	p.Quiet = unread != nil
	var buf bytes.Buffer
	if views.ErrorView(views.ErrorPage{Page: p, Status: status, Message: msg}).Render(r.Context(), &buf) != nil {
		http.Error(w, msg, status)
		return
	}
	writeHTML(w, r, status, buf.Bytes())
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, chat.Errorf(chat.NotFound, "There is no page at this address."))
}

func (h *Handler) crossOrigin(w http.ResponseWriter, r *http.Request) {
	h.meter.CrossOriginRefused()
	h.fail(w, r, chat.Errorf(chat.Forbidden, "This request came from another site and was refused."))
}

// limitedError is a rate limit's refusal: how long to wait travels with it.
type limitedError struct {
	error
	wait time.Duration
}

func (e limitedError) Unwrap() error { return e.error }

// rateLimited returns the error for a request a rate limit refused.
func rateLimited(wait time.Duration, what string) error {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	unit := "seconds"
	if secs == 1 {
		unit = "second"
	}
	return limitedError{chat.Errorf(chat.RateLimited, "%s Try again in %d %s.", what, secs, unit), wait}
}

func retryAfter(err error) (time.Duration, bool) {
	le, ok := errors.AsType[limitedError](err)
	return le.wait, ok
}

func setRetryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
}

// tooMany sets Retry-After and returns the error to show for a request a
// rate limit refused.
func tooMany(w http.ResponseWriter, wait time.Duration, what string) error {
	setRetryAfter(w, wait)
	return rateLimited(wait, what)
}

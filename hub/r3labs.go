package hub

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/r3labs/sse/v2"
)

// Everything that knows r3labs/sse lives in this file. r3labs writes the
// SSE text; each SSE connection has an r3labs stream of its own, which is
// its queue. The hub does the fan-out to connections itself.

// sseServer is the r3labs server, with what the hub needs to know of its
// subscribers' lifetimes.
type sseServer struct {
	srv  *sse.Server
	next atomic.Int64 // names the next connection's stream
	// gone holds, per stream, a channel closed once r3labs has let go of
	// its subscriber: removing a stream before that strands the goroutine
	// r3labs keeps per request. (A plain map: a sync.Map's entry costs a
	// stream three times the memory.)
	mu   sync.Mutex
	gone map[string]chan struct{}
}

func newSSEServer(queueSize int) *sseServer {
	s := &sseServer{srv: sse.New(), gone: make(map[string]chan struct{})}
	s.srv.AutoReplay = false // it would keep every event forever and rewrite our ids
	s.srv.AutoStream = false // each connection's stream lives exactly as long as it
	s.srv.SplitData = true   // multi-line HTML must become several data: lines
	s.srv.BufferSize = queueSize
	s.srv.Headers["X-Accel-Buffering"] = "no"
	s.srv.OnUnsubscribe = func(stream string, _ *sse.Subscriber) {
		s.mu.Lock()
		ch, ok := s.gone[stream]
		delete(s.gone, stream)
		s.mu.Unlock()
		if ok {
			close(ch)
		}
	}
	return s
}

// sseOutlet is one SSE connection: an r3labs stream of its own, served by
// r3labs onto the client's sink.
type sseOutlet struct {
	s      *sseServer
	key    string
	w      *streamWriter
	gzip   *streamCodec // compresses the response, when not nil
	status int          // of the response: 200, or 401 for a refusal of a signed-out client

	subscribed bool
	gone       chan struct{}
}

func (s *sseServer) outlet(w *streamWriter, gzip *streamCodec, status int) *sseOutlet {
	o := &sseOutlet{s: s, key: "c" + strconv.FormatInt(s.next.Add(1), 10), w: w, gzip: gzip, status: status, gone: make(chan struct{})}
	s.mu.Lock()
	s.gone[o.key] = o.gone
	s.mu.Unlock()
	s.srv.CreateStream(o.key)
	return o
}

// sseForm is ev as r3labs takes it, made once per event. An event with
// neither data nor a comment makes r3labs end the response.
func sseForm(ev *Event) *sse.Event {
	return ev.form(formSSE, func(ev *Event) any {
		switch ev.kind {
		case kindHeartbeat:
			return &sse.Event{Comment: []byte("hb")}
		case kindEnd:
			return &sse.Event{}
		}
		return &sse.Event{ID: strconv.AppendInt(nil, ev.ID, 10), Event: []byte(ev.Name), Data: ev.Data}
	}).(*sse.Event)
}

func (o *sseOutlet) offer(ev *Event) bool { return o.s.srv.TryPublish(o.key, sseForm(ev)) }

// put waits for room in the stream. r3labs' Publish takes no context, but
// it never waits for long once ctx ends: the connection is then cut, its
// subscriber deregistered, and r3labs drops what comes after.
func (o *sseOutlet) put(ctx context.Context, ev *Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.s.srv.Publish(o.key, sseForm(ev))
	return nil
}

func (o *sseOutlet) cut() { o.w.cut() }

// unavailable answers 503: the hub is closing.
func (o *sseOutlet) unavailable() { o.status = http.StatusServiceUnavailable }

// serve runs r3labs' handler for the connection's stream. r3labs reads
// only the stream id and Last-Event-ID from a request: it gets a bare one
// naming this connection's stream, and no Last-Event-ID (resuming is the
// hub's job). A bare request also keeps no copy of the client's headers
// for the life of the stream. r3labs flushes first right after it has
// subscribed the connection: from then on nothing published is lost.
func (o *sseOutlet) serve(ctx context.Context, ready func()) {
	sub := (&http.Request{
		Method: http.MethodGet,
		URL:    &url.URL{Path: "/", RawQuery: "stream=" + o.key},
		Header: http.Header{},
	}).WithContext(ctx)
	var w flushWriter = o.w
	if o.gzip != nil {
		w = &gzipUnits{flushWriter: o.w, stream: unitStream{codec: o.gzip}}
	}
	o.s.srv.ServeHTTP(&subscribing{flushWriter: w, status: o.status, ready: func() {
		o.subscribed = true
		ready()
	}}, sub)
}

// close waits until r3labs has let go of the subscriber (its context is
// done by now), removes the stream and lets go of the client.
func (o *sseOutlet) close(bool, endReason) {
	if o.subscribed {
		<-o.gone
	}
	o.s.srv.RemoveStream(o.key)
	o.s.mu.Lock()
	delete(o.s.gone, o.key) // never subscribed: no unsubscribe took it out
	o.s.mu.Unlock()
	o.w.finish()
}

// subscribing tells the outlet when r3labs first flushes, and answers with
// the outlet's status.
type subscribing struct {
	flushWriter
	status int
	ready  func()
	once   bool
}

func (s *subscribing) WriteHeader(int) { s.flushWriter.WriteHeader(s.status) }

func (s *subscribing) Flush() {
	s.flushWriter.Flush()
	if !s.once {
		s.once = true
		s.ready()
	}
}

// flushWriter is what r3labs writes an SSE response to.
type flushWriter interface {
	http.ResponseWriter
	http.Flusher
}

// gzipUnits compresses an SSE response event by event: r3labs writes each
// event's text and then flushes, and each flush sends that event,
// compressed (gzipstream.go).
type gzipUnits struct {
	flushWriter
	stream unitStream
	plain  *[]byte // the event being written; from plains, nil between events
}

// plains recycles event buffers, so an idle stream holds none.
var plains = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// WriteHeader says the body is gzip; no Vary, since a stream is never
// cached.
func (g *gzipUnits) WriteHeader(code int) {
	g.Header().Set("Content-Encoding", "gzip")
	g.flushWriter.WriteHeader(code)
}

func (g *gzipUnits) Write(p []byte) (int, error) {
	if g.plain == nil {
		g.plain = plains.Get().(*[]byte)
	}
	*g.plain = append(*g.plain, p...)
	return len(p), nil
}

// Flush sends the event written since the last flush, compressed.
func (g *gzipUnits) Flush() {
	if g.plain != nil {
		g.stream.send(g.flushWriter, *g.plain)
		*g.plain = (*g.plain)[:0]
		if cap(*g.plain) <= 64<<10 { // a huge event's buffer is not kept
			plains.Put(g.plain)
		}
		g.plain = nil
	}
	g.flushWriter.Flush()
}

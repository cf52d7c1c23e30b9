package hub

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// ServeWebSocket upgrades r to a WebSocket carrying exactly what Serve
// carries: the user's one stream, from the same fan-out, with the same
// replay, queue, cut-off and per-user cap (both transports count). Each
// event becomes one text frame of JSON: {"id":N,"content":"<fragment>"}, or
// {"id":N,"event":"name","data":"..."} for named events. receive handles
// each text frame the client sends; a non-nil reply goes back as a frame.
func (h *Hub) ServeWebSocket(w http.ResponseWriter, r *http.Request, userID int64, session string, valid func() bool,
	replay Replay, receive func(ctx context.Context, frame []byte) []byte) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.opt.WSOrigins})
	if err != nil {
		return // Accept has answered: a bad origin gets 403
	}
	ws.SetReadLimit(h.opt.WSReadLimit)
	ctx, cancel := context.WithCancel(context.Background())
	out := &wsSink{ws: ws, timeout: h.opt.WriteTimeout, code: websocket.StatusGoingAway}
	c := &conn{out: out, cancel: cancel, session: session, valid: valid, light: saveData(r), chose: h.chose(userID)}
	u, err := h.attach(userID, c)
	if err != nil {
		cancel()
		if why := h.tooMany(err); why != "" {
			out.code = websocket.StatusPolicyViolation // no reconnecting: it would be refused again
			refuse(out, why)
			out.flush()
		}
		out.close()
		return
	}
	go h.readFrames(ctx, c, receive)
	h.schedulePing(ctx, c)
	go h.run(ctx, c, u, r.URL.Path, replay)
}

// readFrames hands the client's text frames to receive until the socket
// ends; an oversize frame closes it (1009) through the read limit. Reading
// does not use ctx: cancelling a read closes a socket at once, and a socket
// whose session ended must stay open long enough to say so. Closing the
// socket ends the read instead.
func (h *Hub) readFrames(ctx context.Context, c *conn, receive func(context.Context, []byte) []byte) {
	out := c.out.(*wsSink)
	defer c.cancel()
	for {
		typ, frame, err := out.ws.Read(context.Background())
		if err != nil {
			return
		}
		if typ != websocket.MessageText || receive == nil || ctx.Err() != nil {
			continue // an ended connection takes no more posts
		}
		if reply := receive(ctx, frame); reply != nil {
			// Not from ctx: a write whose context ends midway closes the
			// socket, and a connection that is ending still has its last
			// words to send.
			wctx, cancel := context.WithTimeout(context.Background(), h.opt.WriteTimeout)
			err := out.ws.Write(wctx, websocket.MessageText, reply)
			cancel()
			if err != nil {
				return
			}
		}
	}
}

// schedulePing keeps the socket alive through proxies and finds dead
// peers: every heartbeat a ping goes out, and one unanswered within the
// write timeout ends the connection. A timer, not a goroutine, waits in
// between: an idle socket holds no goroutine for it.
func (h *Hub) schedulePing(ctx context.Context, c *conn) {
	time.AfterFunc(h.opt.Heartbeat, func() {
		if ctx.Err() != nil {
			return
		}
		pctx, cancel := context.WithTimeout(context.Background(), h.opt.WriteTimeout) // see readFrames
		err := c.out.(*wsSink).ws.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				c.kill()
			}
			return
		}
		h.schedulePing(ctx, c)
	})
}

// wsSink turns the SSE text r3labs writes into WebSocket frames: one frame
// per event, heartbeat comments dropped (pings keep the socket alive).
type wsSink struct {
	ws      *websocket.Conn
	timeout time.Duration // for each frame
	buf     []byte
	code    websocket.StatusCode // sent when the stream ends
	header  http.Header
	dead    atomic.Bool // cut off: close without waiting for the peer's reply
}

func (s *wsSink) Header() http.Header {
	if s.header == nil {
		s.header = http.Header{}
	}
	return s.header
}

func (s *wsSink) WriteHeader(int) {}

func (s *wsSink) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	return len(p), nil
}

// setWriteDeadline only notices a cut (a deadline in the past): every
// frame gets its own timeout.
func (s *wsSink) setWriteDeadline(t time.Time) error {
	if t.Before(time.Now()) {
		s.dead.Store(true)
	}
	return nil
}

// flush sends every complete event buffered so far.
func (s *wsSink) flush() error {
	rest := s.buf
	for {
		block, after, ok := bytes.Cut(rest, []byte("\n\n"))
		if !ok {
			break
		}
		rest = after
		frame := frames.get(block)
		if frame == nil {
			continue
		}
		if s.dead.Load() {
			s.buf = s.buf[:0]
			return errCut
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		err := s.ws.Write(ctx, websocket.MessageText, frame)
		cancel()
		if err != nil {
			s.buf = s.buf[:0]
			return err
		}
	}
	s.buf = append(s.buf[:0], rest...)
	if cap(s.buf) > 64<<10 {
		s.buf = nil
	}
	return nil
}

// signedOut makes the closing code one the browser's client does not retry.
func (s *wsSink) signedOut() { s.code = signedOutCode }

// close ends the socket with code: 1001 (going away) tells clients to
// reconnect and resume. A cut-off socket is dropped without the handshake,
// which a stalled peer would never finish.
func (s *wsSink) close() {
	if s.dead.Load() {
		s.ws.CloseNow()
		return
	}
	s.ws.Close(s.code, "")
}

// wsFrame converts one SSE event block (as r3labs or appendEvent frame it)
// into the JSON of a frame; nil for comments.
func wsFrame(block []byte) []byte {
	var id, event []byte
	var data []byte
	hasData := false
	for line := range bytes.SplitSeq(block, []byte("\n")) {
		field, value, _ := bytes.Cut(line, []byte(": "))
		switch string(field) {
		case "id":
			id = value
		case "event":
			event = value
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			data = append(data, value...)
			hasData = true
		}
	}
	if !hasData {
		return nil
	}
	b := make([]byte, 0, len(data)+len(event)+48)
	b = append(b, `{"id":`...)
	if n, err := strconv.ParseInt(string(id), 10, 64); err == nil {
		b = strconv.AppendInt(b, n, 10)
	} else {
		b = append(b, '0')
	}
	if len(event) > 0 {
		b = append(b, `,"event":`...)
		b = appendJSONString(b, event)
		b = append(b, `,"data":`...)
	} else {
		b = append(b, `,"content":`...)
	}
	b = appendJSONString(b, data)
	return append(b, '}')
}

// appendJSONString quotes s as a JSON string. Unlike encoding/json it does
// not turn < > & into \u escapes: fragments are HTML, and would grow a
// fifth.
func appendJSONString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20 || r == 0x2028 || r == 0x2029 || r == utf8.RuneError && size == 1:
			if r == utf8.RuneError {
				r = 0xFFFD
			}
			b = append(b, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
		default:
			b = append(b, s[:size]...)
		}
		s = s[size:]
	}
	return append(b, '"')
}

// frameCache shares the JSON of recent events between sockets: every member
// of a room gets the same event, so it is converted once, not per socket.
// Keys are the whole SSE block, which holds the id, the name and the data.
type frameCache struct {
	mu    sync.Mutex
	byKey map[string][]byte
	order []string // insertion order, for eviction
}

const frameCacheSize = 256

var frames = &frameCache{byKey: make(map[string][]byte, frameCacheSize)}

func (fc *frameCache) get(block []byte) []byte {
	if !bytes.HasPrefix(block, []byte("id: ")) {
		return wsFrame(block) // comments and refusals: not worth caching
	}
	fc.mu.Lock()
	f, ok := fc.byKey[string(block)]
	fc.mu.Unlock()
	if ok {
		return f
	}
	f = wsFrame(block)
	key := string(block)
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if _, ok := fc.byKey[key]; !ok {
		if len(fc.order) >= frameCacheSize {
			delete(fc.byKey, fc.order[0])
			fc.order = fc.order[1:]
		}
		fc.byKey[key] = f
		fc.order = append(fc.order, key)
	}
	return f
}

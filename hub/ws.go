package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/rtmessenger/rtmessenger/hub/wsock"
)

// ServeWebSocket upgrades r to a WebSocket carrying exactly what Serve
// carries: the user's stream, from the same fan-out, with the same replay,
// queue, cut-off and per-user cap (every transport counts). Each event
// becomes one text message of JSON: {"id":N,"content":"<fragment>"}, or
// {"id":N,"event":"name","data":"..."} for named events. A client that
// offers permessage-deflate gets them compressed as SSE streams are
// (gzip.go), and now and then a message {"primer":[...]} that carries no
// event: the text later messages refer back to. receive handles each text
// message the client sends; a non-nil reply goes back, uncompressed.
func (h *Hub) ServeWebSocket(w http.ResponseWriter, r *http.Request, userID int64, session string, valid func() bool,
	replay Replay, receive func(ctx context.Context, frame []byte) []byte) {
	ws, err := h.acceptSocket(w, r, true)
	if err != nil {
		return // Accept has answered: a bad origin gets 403
	}
	f := &wsFrames{ws: ws, timeout: h.opt.WriteTimeout}
	if ws.Deflate() {
		f.z = &unitStream{codec: h.wsGzip}
	}
	c := h.newConn("ws", newQueueOutlet(h.queueLen(), f))
	c.session, c.valid, c.light, c.chose = session, valid, saveData(r), h.chose(userID)
	u, replay := h.admit(userID, c, replay)
	if u != nil {
		go h.readFrames(c, ws, receive)
		h.schedulePing(c, ws)
	}
	go h.run(c, u, replay)
}

// acceptSocket upgrades r; deflate allows compression (a socket that only
// says why it is refused gains nothing from it).
func (h *Hub) acceptSocket(w http.ResponseWriter, r *http.Request, deflate bool) (*wsock.Conn, error) {
	return wsock.Accept(w, r, wsock.Options{OriginPatterns: h.opt.WSOrigins, ReadLimit: h.opt.WSReadLimit,
		Deflate: deflate, WriteTimeout: h.opt.WriteTimeout})
}

// readFrames hands the client's text messages to receive until the socket
// ends; an oversize one closes it (1009) through the read limit. Closing
// the socket ends the read, and a read that ends closes the socket.
func (h *Hub) readFrames(c *conn, ws *wsock.Conn, receive func(context.Context, []byte) []byte) {
	defer c.cancel()
	for {
		binary, frame, err := ws.Read()
		if err != nil {
			// The client is gone or broke the protocol: a write stalled on
			// it must fail now, not at its timeout.
			ws.CloseNow()
			return
		}
		if binary || receive == nil || c.ended.Load() || c.ctx.Err() != nil {
			continue // an ended connection takes no more posts
		}
		if reply := receive(c.ctx, frame); reply != nil {
			if ws.WriteText(reply, h.opt.WriteTimeout) != nil {
				return
			}
		}
	}
}

// schedulePing keeps the socket alive through proxies and finds dead
// peers: every heartbeat a ping goes out, and one unanswered within the
// write timeout ends the connection. A timer, not a goroutine, waits in
// between: an idle socket holds no goroutine for it.
func (h *Hub) schedulePing(c *conn, ws *wsock.Conn) {
	time.AfterFunc(h.opt.Heartbeat, func() {
		if c.ctx.Err() != nil {
			return
		}
		if err := ws.Ping(h.opt.WriteTimeout); err != nil {
			if c.ctx.Err() == nil {
				h.cutOff(c, "ping_timeout")
			}
			return
		}
		h.schedulePing(c, ws)
	})
}

// wsFrames writes each event as one message; heartbeats are left out
// (pings keep the socket alive).
type wsFrames struct {
	ws      *wsock.Conn
	timeout time.Duration // for each message
	z       *unitStream   // where the compressed messages stand; nil: plain
}

func (f *wsFrames) begin() {}
func (f *wsFrames) flush() {}

func (f *wsFrames) write(_ context.Context, ev *Event) error {
	if ev.kind != kindData {
		return nil
	}
	if f.z == nil {
		return f.ws.WriteText(wsForm(ev), f.timeout)
	}
	return f.z.messages(wsForm(ev), f.send)
}

func (f *wsFrames) send(p []byte) error { return f.ws.WriteCompressed(p, f.timeout) }

// cut drops the socket at once, without the closing handshake, which a
// stalled peer would never finish: a write stalled on it fails, and
// nothing else is sent (close finds it closed).
func (f *wsFrames) cut() { f.ws.CloseNow() }

// close ends the socket with a code that tells the client what to do:
// 1001 (going away) to reconnect and resume, 4001 signed out, 1008
// refused.
func (f *wsFrames) close(ended bool, why endReason) {
	switch {
	case ended && why == endSignedOut:
		f.ws.Close(signedOutCode, f.timeout)
	case ended && why == endRefused:
		f.ws.Close(wsock.StatusPolicyViolation, f.timeout)
	default:
		f.ws.Close(wsock.StatusGoingAway, f.timeout)
	}
}

// wsMessage is the JSON of a frame.
type wsMessage struct {
	ID      int64   `json:"id"`
	Content *string `json:"content,omitempty"` // a fragment to swap in
	Event   string  `json:"event,omitempty"`
	Data    *string `json:"data,omitempty"` // a named event's data
}

// wsForm is ev's frame, made once per event. HTML is not escaped: < > &
// as \u escapes would make fragments a fifth larger, and a frame's text
// is only ever parsed as JSON.
func wsForm(ev *Event) []byte {
	return ev.form(formWS, func(ev *Event) any {
		data := string(ev.Data)
		m := wsMessage{ID: ev.ID, Event: ev.Name, Content: &data}
		if ev.Name != "" {
			m.Content, m.Data = nil, &data
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			panic(err) // strings and numbers always encode
		}
		return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	}).([]byte)
}

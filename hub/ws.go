package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// ServeWebSocket upgrades r to a WebSocket carrying exactly what Serve
// carries: the user's stream, from the same fan-out, with the same replay,
// queue, cut-off and per-user cap (every transport counts). Each event
// becomes one text frame of JSON: {"id":N,"content":"<fragment>"}, or
// {"id":N,"event":"name","data":"..."} for named events. receive handles
// each text frame the client sends; a non-nil reply goes back as a frame.
func (h *Hub) ServeWebSocket(w http.ResponseWriter, r *http.Request, userID int64, session string, valid func() bool,
	replay Replay, receive func(ctx context.Context, frame []byte) []byte) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.opt.WSOrigins})
	if err != nil {
		return // Accept has answered: a bad origin gets 403
	}
	ws.SetReadLimit(h.opt.WSReadLimit)
	c := h.newConn("ws", newQueueOutlet(h.queueLen(), &wsFrames{ws: ws, timeout: h.opt.WriteTimeout}))
	c.session, c.valid, c.light, c.chose = session, valid, saveData(r), h.chose(userID)
	u, replay := h.admit(userID, c, replay)
	if u != nil {
		go h.readFrames(c, ws, receive)
		h.schedulePing(c, ws)
	}
	go h.run(c, u, replay)
}

// readFrames hands the client's text frames to receive until the socket
// ends; an oversize frame closes it (1009) through the read limit. Reading
// does not use the connection's context: cancelling a read closes a socket
// at once, and a socket whose session ended must stay open long enough to
// say so. Closing the socket ends the read instead.
func (h *Hub) readFrames(c *conn, ws *websocket.Conn, receive func(context.Context, []byte) []byte) {
	defer c.cancel()
	for {
		typ, frame, err := ws.Read(context.Background())
		if err != nil {
			return
		}
		if typ != websocket.MessageText || receive == nil || c.ended.Load() || c.ctx.Err() != nil {
			continue // an ended connection takes no more posts
		}
		if reply := receive(c.ctx, frame); reply != nil {
			// Not from c.ctx: a write whose context ends midway closes the
			// socket, and a connection that is ending still has its last
			// words to send.
			wctx, cancel := context.WithTimeout(context.Background(), h.opt.WriteTimeout)
			err := ws.Write(wctx, websocket.MessageText, reply)
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
func (h *Hub) schedulePing(c *conn, ws *websocket.Conn) {
	time.AfterFunc(h.opt.Heartbeat, func() {
		if c.ctx.Err() != nil {
			return
		}
		pctx, cancel := context.WithTimeout(context.Background(), h.opt.WriteTimeout) // see readFrames
		err := ws.Ping(pctx)
		cancel()
		if err != nil {
			if c.ctx.Err() == nil {
				h.cutOff(c, "ping_timeout")
			}
			return
		}
		h.schedulePing(c, ws)
	})
}

// wsFrames writes each event as one frame; heartbeats are left out (pings
// keep the socket alive).
type wsFrames struct {
	ws      *websocket.Conn
	timeout time.Duration // for each frame
	dead    atomic.Bool   // cut off: close without waiting for the peer's reply
}

func (f *wsFrames) begin() {}
func (f *wsFrames) flush() {}

func (f *wsFrames) write(ctx context.Context, ev *Event) error {
	if ev.kind != kindData {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	return f.ws.Write(wctx, websocket.MessageText, wsForm(ev))
}

func (f *wsFrames) cut() { f.dead.Store(true) }

// close ends the socket with a code that tells the client what to do:
// 1001 (going away) to reconnect and resume, 4001 signed out, 1008
// refused. A cut-off socket is dropped without the handshake, which a
// stalled peer would never finish.
func (f *wsFrames) close(ended bool, why endReason) {
	switch {
	case f.dead.Load():
		f.ws.CloseNow()
	case ended && why == endSignedOut:
		f.ws.Close(signedOutCode, "")
	case ended && why == endRefused:
		f.ws.Close(websocket.StatusPolicyViolation, "")
	default:
		f.ws.Close(websocket.StatusGoingAway, "")
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

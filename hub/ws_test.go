package hub

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

type wsRig struct {
	t   *testing.T
	hub *Hub
	srv *httptest.Server
	// subscribed gets a value each time a socket's subscription is live:
	// events published before then reach it only through a replay.
	subscribed chan struct{}
}

// newWSRig serves SSE on / and WebSocket on /ws; X-User names the user.
// Frames the client sends come back as {"echo": ...}.
func newWSRig(t *testing.T, opt Options) *wsRig {
	t.Helper()
	rg := &wsRig{t: t, hub: New(opt), subscribed: make(chan struct{}, 100)}
	rg.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uid, _ := strconv.ParseInt(r.Header.Get("X-User"), 10, 64)
		if r.URL.Path == "/ws" {
			live := func(context.Context, func(int64, string, []byte) error) error {
				rg.subscribed <- struct{}{}
				return nil
			}
			rg.hub.ServeWebSocket(w, r, uid, r.Header.Get("X-Session"), nil, live, func(_ context.Context, frame []byte) []byte {
				reply, _ := json.Marshal(map[string]string{"echo": string(frame)})
				return reply
			})
			return
		}
		rg.hub.Serve(w, r, uid, r.Header.Get("X-Session"), nil, nil)
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rg.hub.Close(ctx)
		rg.srv.Close()
	})
	return rg
}

func (rg *wsRig) dial(user int64, origin string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{"X-User": {strconv.FormatInt(user, 10)}}
	if origin != "" {
		h.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(rg.srv.URL, "http")+"/ws", &websocket.DialOptions{HTTPHeader: h})
	if err == nil {
		rg.t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

type frame struct {
	ID      int64  `json:"id"`
	Content string `json:"content"`
	Event   string `json:"event"`
	Data    string `json:"data"`
	Echo    string `json:"echo"`
}

func readFrame(t *testing.T, c *websocket.Conn) frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	var f frame
	if typ != websocket.MessageText || json.Unmarshal(b, &f) != nil {
		t.Fatalf("frame %q is not JSON text", b)
	}
	return f
}

func (rg *wsRig) waitConns(n int) {
	rg.t.Helper()
	waitFor(rg.t, "connections", func() bool { _, c := rg.hub.Stats(); return c == n })
}

func TestWebSocketCarriesTheSameEvents(t *testing.T) {
	rg := newWSRig(t, Options{})
	rg.hub.Join(10, 1)
	rg.hub.Join(20, 2)
	c, _, err := rg.dial(1, "")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-rg.subscribed:
	case <-time.After(5 * time.Second):
		t.Fatal("the socket never subscribed")
	}
	rg.hub.Publish(20, 4, []byte("not yours"))
	rg.hub.Publish(10, 5, []byte("<p class=\"x\">a & b\nline two</p>"))
	f := readFrame(t, c)
	if f.ID != 5 || f.Content != "<p class=\"x\">a & b\nline two</p>" || f.Event != "" {
		t.Fatalf("frame %+v", f)
	}
	// Frames from the client reach the receive function; replies come back.
	if err := c.Write(context.Background(), websocket.MessageText, []byte(`{"body":"hi"}`)); err != nil {
		t.Fatal(err)
	}
	if f := readFrame(t, c); f.Echo != `{"body":"hi"}` {
		t.Fatalf("reply %+v", f)
	}
}

func TestWebSocketRefusesOtherOrigins(t *testing.T) {
	rg := newWSRig(t, Options{WSOrigins: []string{"allowed.example"}})
	if _, resp, err := rg.dial(1, "http://evil.example"); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v %v", resp, err)
	}
	if _, _, err := rg.dial(1, "http://allowed.example"); err != nil {
		t.Fatalf("allow-listed origin refused: %v", err)
	}
	if _, _, err := rg.dial(1, rg.srv.URL); err != nil {
		t.Fatalf("same origin refused: %v", err)
	}
}

func TestWebSocketOversizeFrameClosesTheSocket(t *testing.T) {
	rg := newWSRig(t, Options{WSReadLimit: 1024})
	c, _, err := rg.dial(1, "")
	if err != nil {
		t.Fatal(err)
	}
	rg.waitConns(1)
	c.Write(context.Background(), websocket.MessageText, []byte(strings.Repeat("x", 2048)))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err = c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("after an oversize frame: %v", err)
	}
	rg.waitConns(0)
}

func TestBothTransportsShareTheTabCap(t *testing.T) {
	rg := newWSRig(t, Options{MaxConnsPerSession: 2})
	req, _ := http.NewRequest("GET", rg.srv.URL, nil)
	req.Header.Set("X-User", "1")
	resp, err := rg.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, _, err := rg.dial(1, ""); err != nil {
		t.Fatal(err)
	}
	rg.waitConns(2)
	third, _, err := rg.dial(1, "")
	if err != nil {
		t.Fatal(err)
	}
	if f := readFrame(t, third); f.Event != ClosedEvent || !strings.Contains(f.Data, "2 other tabs of this browser") {
		t.Fatalf("third connection got %+v", f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := third.Read(ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("a refused socket closes with 1008, got %v", err)
	}
}

func TestWebSocketGoesAwayOnShutdownAndLeave(t *testing.T) {
	rg := newWSRig(t, Options{})
	rg.hub.Join(10, 1)
	c, _, err := rg.dial(1, "")
	if err != nil {
		t.Fatal(err)
	}
	rg.waitConns(1)
	rg.hub.Leave(10, 1) // leaving cuts, so the client reconnects with its rooms as they are
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := c.Read(ctx); err == nil {
		t.Fatal("leaving must end the socket")
	}
	rg.waitConns(0)

	c, _, err = rg.dial(1, "")
	if err != nil {
		t.Fatal(err)
	}
	rg.waitConns(1)
	closed := make(chan error, 1)
	go func() { _, _, err := c.Read(ctx); closed <- err }() // a client reads, and so answers the close
	if err := rg.hub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("shutdown must close with 1001, got %v", err)
	}
	if u, n := rg.hub.Stats(); u != 0 || n != 0 {
		t.Fatalf("after shutdown: %d users, %d conns", u, n)
	}
}

func TestWSFrameFormat(t *testing.T) {
	for _, tc := range []struct {
		ev   *Event
		want string
	}{
		{newEvent(7, "", []byte("<b>x</b>\r\ny\n")), `{"id":7,"content":"<b>x</b>\ny"}`},
		{newEvent(3, "rtm-reset", []byte("go")), `{"id":3,"event":"rtm-reset","data":"go"}`},
		{newEvent(1, "", []byte("\"q\" \\ \t \x01 \u2028 \xff")), `{"id":1,"content":"\"q\" \\ \t \u0001 \u2028 \ufffd"}`},
	} {
		got := string(wsForm(tc.ev))
		if got != tc.want {
			t.Errorf("wsForm(%q) = %s, want %s", tc.ev.Data, got, tc.want)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(got), &v); err != nil {
			t.Errorf("%s is not JSON: %v", got, err)
		}
	}
}

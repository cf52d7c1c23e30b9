package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rtmessenger/rtmessenger/chat"
)

type socket struct {
	t *testing.T
	c *websocket.Conn
}

// dialSocket opens b's WebSocket with its cookies; query may carry after=.
func (b *browser) dialSocket(query string, header http.Header) (*socket, *http.Response, error) {
	b.a.settle() // see open
	u, _ := url.Parse(b.a.srv.URL)
	h := http.Header{}
	for k, v := range header {
		h[k] = v
	}
	for _, c := range b.c.Jar.Cookies(u) {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b.a.srv.URL, "http")+"/ws"+query, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return nil, resp, err
	}
	b.a.t.Cleanup(func() { c.CloseNow() })
	return &socket{t: b.a.t, c: c}, resp, nil
}

type wsFrame struct {
	ID      int64  `json:"id"`
	Content string `json:"content"`
	Target  string `json:"target"`
	Swap    string `json:"swap"`
	Event   string `json:"event"`
	Data    string `json:"data"`
}

func (s *socket) next() wsFrame {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), streamWait)
	defer cancel()
	_, b, err := s.c.Read(ctx)
	if err != nil {
		s.t.Fatalf("read frame: %v", err)
	}
	var f wsFrame
	if err := json.Unmarshal(b, &f); err != nil {
		s.t.Fatalf("frame %q: %v", b, err)
	}
	return f
}

// send writes what hx-ws sends for the message form: the fields and headers.
func (s *socket) send(fields map[string]any) {
	s.t.Helper()
	fields["headers"] = map[string]string{"HX-Request": "true"}
	b, _ := json.Marshal(fields)
	if err := s.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		s.t.Fatal(err)
	}
}

func TestSocketCarriesTheStreamAndTakesPosts(t *testing.T) {
	a := newApp(t)
	alice, bob, carol := a.signup("alice"), a.signup("bob"), a.signup("carol")
	room := alice.createRoom("general")
	bob.post(fmt.Sprintf("/rooms/%d/join", room), nil, nil)
	private := carol.createRoom("carols")
	ws, _, err := alice.dialSocket("", nil)
	if err != nil {
		t.Fatal(err)
	}
	bs := bob.open("", nil)
	a.waitConns(2)

	// Alice posts over the socket: Bob's SSE stream gets it, Alice gets a
	// fresh composer back and the message on her socket.
	ws.send(map[string]any{"body": "over the socket <b>", "room": fmt.Sprint(room), "client_id": "sock-1"})
	reply, event := ws.next(), ws.next()
	if reply.Target != "#composer" {
		reply, event = event, reply
	}
	if reply.Target != "#composer" || reply.Swap != "outerHTML" || !strings.Contains(reply.Content, "hx-ws:send") || strings.Contains(reply.Content, "over the socket") {
		t.Fatalf("reply %+v", reply)
	}
	if !strings.Contains(event.Content, "over the socket &lt;b&gt;") || event.ID == 0 {
		t.Fatalf("event %+v", event)
	}
	if ev := bs.next(); !strings.Contains(ev.Data, "over the socket &lt;b&gt;") || ev.IntID() != event.ID {
		t.Fatalf("bob's stream: %+v", ev)
	}
	// The same client id again stores nothing new.
	ws.send(map[string]any{"body": "over the socket <b>", "room": room, "client_id": "sock-1"})
	if f := ws.next(); f.Target != "#composer" || f.Content == "" {
		t.Fatalf("resend reply %+v", f)
	}
	// A room Alice is not in: refused, nothing stored, the error shown.
	ws.send(map[string]any{"body": "let me in", "room": fmt.Sprint(private), "client_id": "sock-2"})
	if f := ws.next(); !strings.Contains(f.Content, "not a member") || !strings.Contains(f.Content, "let me in</textarea>") {
		t.Fatalf("non-member reply %+v", f)
	}
	for _, r := range []int64{room, private} {
		msgs, _, _ := a.store.History(t.Context(), r, 0, 50)
		n := 0
		for _, m := range msgs {
			if m.Kind == chat.KindText {
				n++
			}
		}
		if want := map[int64]int{room: 1, private: 0}[r]; n != want {
			t.Fatalf("room %d holds %d messages, want %d", r, n, want)
		}
	}
	// Bad frames get a notice, and the socket stays.
	for _, bad := range []string{`not json`, `{"body":"x"}`} {
		ws.c.Write(context.Background(), websocket.MessageText, []byte(bad))
		if f := ws.next(); f.Event != "rtm-notice" {
			t.Fatalf("bad frame %q: %+v", bad, f)
		}
	}
	// Too long: the same 422 text as the form, the text kept.
	ws.send(map[string]any{"body": strings.Repeat("x", chat.MaxMessageRunes+1), "room": room, "client_id": "sock-3"})
	if f := ws.next(); !strings.Contains(f.Content, "the limit is 4000") {
		t.Fatalf("too long: %+v", f)
	}
}

func TestSocketResumesAndRefuses(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := alice.createRoom("general")
	first, _ := a.store.PostMessage(t.Context(), room, alice.user(), "before", "")
	missed, _ := a.store.PostMessage(t.Context(), room, alice.user(), "missed", "")
	ws, _, err := alice.dialSocket(fmt.Sprintf("?after=%d", first.ID), nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := ws.next(); f.ID != missed.ID || !strings.Contains(f.Content, "missed") {
		t.Fatalf("resume gave %+v", f)
	}

	if _, resp, err := alice.dialSocket("", http.Header{"Origin": {"https://evil.example"}}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v %v", resp, err)
	}
	// Without a session the socket only says so and closes (4001): a
	// refused handshake would look like a network error, retried forever.
	anon, resp, err := a.browser().dialSocket("", nil)
	if err != nil {
		t.Fatalf("anonymous: %v %v", resp, err)
	}
	waitSocketSignedOut(t, anon)

	big, _, err := alice.dialSocket("", nil)
	if err != nil {
		t.Fatal(err)
	}
	big.c.Write(context.Background(), websocket.MessageText, []byte(strings.Repeat("x", 70<<10)))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := big.c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("oversize frame: %v", err)
	}
}

func TestTransportChoice(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := fmt.Sprintf("/rooms/%d", alice.createRoom("general"))
	page := alice.get(room, nil).body
	// live.js makes data-connect hx-sse:connect (or hx-ws:connect) in the
	// one tab of the browser that holds the stream.
	mustContain(t, page, `<div id="stream" data-connect="/events?after=`, `hx-post="/rooms/`, "live-sse.js", "Use WebSocket")
	mustNotContain(t, page, `id="socket"`, "live-ws.js")

	// One page on the socket, by query.
	page = alice.get(room+"?transport=ws", nil).body
	mustContain(t, page, `id="socket" class="socket-root" data-connect="/ws?after=`, "hx-ws:send", `name="room" value="`, "live-ws.js")
	mustNotContain(t, page, `id="stream"`, `hx-post="/rooms/`)

	// Or every page, as a saved choice.
	res := alice.post("/settings/transport", url.Values{"transport": {"ws"}, "next": {room}}, nil)
	if res.status != http.StatusSeeOther || res.location != room {
		t.Fatalf("choose ws: %d %s", res.status, res.location)
	}
	mustContain(t, alice.get("/rooms", nil).body, `data-connect="/ws?`, "Use Server-Sent Events")
	// An off-site next is refused (TestTransportSwitchRefusesOffSiteNext).
	if res := alice.post("/settings/transport", url.Values{"transport": {"sse"}, "next": {"/rooms"}}, nil); res.location != "/rooms" {
		t.Fatalf("back to /rooms: %q", res.location)
	}
	mustContain(t, alice.get("/rooms", nil).body, `data-connect="/events?`)
	if res := alice.post("/settings/transport", url.Values{"transport": {"carrier pigeon"}}, nil); res.status != 422 {
		t.Fatalf("bad transport: %d", res.status)
	}
}

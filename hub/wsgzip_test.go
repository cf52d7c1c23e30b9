package hub

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// countingConn counts the bytes a client reads off the wire.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// dialCompressed opens user's socket offering permessage-deflate as
// browsers do, counting what it reads.
func (rg *wsRig) dialCompressed(user int64, wire *atomic.Int64) *websocket.Conn {
	rg.t.Helper()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return countingConn{c, wire}, err
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(rg.srv.URL, "http")+"/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"X-User": {fmt.Sprint(user)}}, HTTPClient: &http.Client{Transport: tr},
		CompressionMode: websocket.CompressionContextTakeover})
	if err != nil {
		rg.t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	rg.t.Cleanup(func() { c.CloseNow() })
	select {
	case <-rg.subscribed:
	case <-time.After(5 * time.Second):
		rg.t.Fatal("the socket never subscribed")
	}
	return c
}

// TestCompressedSocketsGetEveryEventWhole sends 400 events, some over the
// window and one over it alone, to two compressed sockets with different
// histories (one is in both rooms, the other in one): each must read
// exactly the frames a plain socket gets, in order, passing over the
// primer messages, which must come more than once (the primer renewed as
// the window slides) and cost far fewer bytes than the plain text.
func TestCompressedSocketsGetEveryEventWhole(t *testing.T) {
	sample := "id: 1\ndata: <div id=\"m1\" class=\"msg\"><b>user1</b> the message</div>\n\n" +
		"id: 1\ndata: <p>someone is typing</p>\nevent: rtm-typing\n\n"
	rg := newWSRig(t, Options{StreamPrimer: []byte(sample), QueueSize: 1024})
	rg.hub.Join(10, 1)
	rg.hub.Join(20, 1)
	rg.hub.Join(10, 2)
	var wire1, wire2 atomic.Int64
	both, one := rg.dialCompressed(1, &wire1), rg.dialCompressed(2, &wire2)

	words := strings.Fields("hello there how are you the meeting is at noon see you soon ok thanks")
	rnd := rand.New(rand.NewPCG(1, 2))
	var wantBoth, wantOne [][]byte
	var plainBoth int
	for id := int64(1); id <= 400; id++ {
		n := 1 + rnd.IntN(60)
		switch id {
		case 200:
			n = 9000 // about 50 KB: longer than the window
		case 300:
			n = 4000
		}
		var text strings.Builder
		for range n {
			text.WriteString(words[rnd.IntN(len(words))] + " ")
		}
		room := int64(10)
		if id%3 == 0 {
			room = 20
		}
		data := fmt.Sprintf(`<div id="m%d" class="msg"><b>user%d</b> %s</div>`, id, id%5, text.String())
		rg.hub.Publish(room, id, []byte(data))
		f := wsForm(newEvent(id, "", []byte(data)))
		wantBoth, plainBoth = append(wantBoth, f), plainBoth+len(f)
		if room == 10 {
			wantOne = append(wantOne, f)
		}
	}
	for _, c := range []struct {
		ws   *websocket.Conn
		want [][]byte
	}{{both, wantBoth}, {one, wantOne}} {
		primers := 0
		for i := 0; i < len(c.want); {
			b, err := readMessage(c.ws)
			if err != nil {
				t.Fatalf("after %d of %d frames: %v", i, len(c.want), err)
			}
			if bytes.HasPrefix(b, []byte(`{"primer":[`)) {
				primers++
				continue
			}
			if !bytes.Equal(b, c.want[i]) {
				t.Fatalf("frame %d: got %.200q\nwant %.200q", i, b, c.want[i])
			}
			i++
		}
		if primers < 2 {
			t.Errorf("the primer came %d times: it must be renewed as the window slides", primers)
		}
	}
	t.Logf("wire: %d B for %d B of frames (%.0f%%)", wire1.Load(), plainBoth, 100*float64(wire1.Load())/float64(plainBoth))
	if wire1.Load() > int64(plainBoth)/2 {
		t.Errorf("the socket read %d B for %d B of frames: not compressed", wire1.Load(), plainBoth)
	}
}

func readMessage(c *websocket.Conn) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	return b, err
}

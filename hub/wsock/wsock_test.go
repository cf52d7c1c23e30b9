package wsock

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const wait = 5 * time.Second

// server accepts sockets with opt and hands each to serve.
func server(t *testing.T, opt Options, serve func(*Conn)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, opt)
		if err != nil {
			return
		}
		serve(c)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// echo sends back each message the client sends, until it closes.
func echo(c *Conn) {
	defer c.CloseNow()
	for {
		_, msg, err := c.Read()
		if err != nil {
			return
		}
		if c.WriteText(msg, wait) != nil {
			return
		}
	}
}

func dial(t *testing.T, srv *httptest.Server, opt *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func read(t *testing.T, c *websocket.Conn) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, b, err := c.Read(ctx)
	return b, err
}

func write(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

func TestMessagesGoBothWaysWithAndWithoutCompression(t *testing.T) {
	for _, mode := range []websocket.CompressionMode{websocket.CompressionDisabled, websocket.CompressionContextTakeover, websocket.CompressionNoContextTakeover} {
		srv := server(t, Options{Deflate: true}, echo)
		c := dial(t, srv, &websocket.DialOptions{CompressionMode: mode, CompressionThreshold: 1})
		for _, msg := range []string{"hi", strings.Repeat("a longer message, ", 200), "é ✓ 👍"} {
			write(t, c, msg)
			got, err := read(t, c)
			if err != nil || string(got) != msg {
				t.Fatalf("mode %v: sent %.20q, got %.20q (%v)", mode, msg, got, err)
			}
		}
	}
}

// TestCompressedMessagesKeepTheirContext sends messages compressed by one
// deflate stream across messages, as permessage-deflate with context
// takeover allows: each refers back to the ones before it, and a plain
// message between them leaves the context alone.
func TestCompressedMessagesKeepTheirContext(t *testing.T) {
	msgs := []string{`{"id":1,"content":"<p>hello there</p>"}`, `{"id":2,"content":"<p>hello there again</p>"}`, `{"id":3,"content":"<p>hello there, and again</p>"}`}
	srv := server(t, Options{Deflate: true}, func(c *Conn) {
		defer c.Close(StatusNormal, wait)
		if !c.Deflate() {
			c.WriteText([]byte("no deflate"), wait)
			return
		}
		var out bytes.Buffer
		fw, _ := flate.NewWriter(&out, flate.BestCompression)
		for i, m := range msgs {
			out.Reset()
			fw.Write([]byte(m))
			fw.Flush()
			p, ok := bytes.CutSuffix(out.Bytes(), []byte{0, 0, 0xff, 0xff})
			if !ok {
				panic("a flush ends in 00 00 ff ff")
			}
			if err := c.WriteCompressed(p, wait); err != nil {
				return
			}
			if i == 0 && c.WriteText([]byte("plain"), wait) != nil {
				return
			}
		}
	})
	c := dial(t, srv, &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
	want := []string{msgs[0], "plain", msgs[1], msgs[2]}
	for _, w := range want {
		got, err := read(t, c)
		if err != nil || string(got) != w {
			t.Fatalf("got %q (%v), want %q", got, err, w)
		}
	}
	if _, err := read(t, c); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("the end: %v", err)
	}
}

func TestDeflateIsAgreedOnlyAsTheServerSendsIt(t *testing.T) {
	for offer, want := range map[string]string{
		"permessage-deflate":                                                         "permessage-deflate; client_no_context_takeover",
		"permessage-deflate; client_max_window_bits":                                 "permessage-deflate; client_no_context_takeover",
		"permessage-deflate; client_max_window_bits=10":                              "permessage-deflate; client_no_context_takeover",
		"permessage-deflate; server_max_window_bits=15":                              "permessage-deflate; client_no_context_takeover; server_max_window_bits=15",
		"permessage-deflate; server_no_context_takeover":                             "",
		"permessage-deflate; server_max_window_bits=10":                              "",
		"permessage-deflate; client_max_window_bits=16":                              "",
		"permessage-deflate; meow":                                                   "",
		"permessage-deflate; client_no_context_takeover; client_no_context_takeover": "",
		"permessage-deflate; server_no_context_takeover, permessage-deflate":         "permessage-deflate; client_no_context_takeover",
		"x-webkit-deflate-frame":                                                     "",
	} {
		got, _ := deflateAnswer([]string{offer})
		if got != want {
			t.Errorf("offer %q: answered %q, want %q", offer, got, want)
		}
	}
}

func TestTheHandshakeIsChecked(t *testing.T) {
	srv := server(t, Options{OriginPatterns: []string{"*.example.com", "https://embed.test"}}, echo)
	good := func() http.Header {
		return http.Header{"Connection": {"keep-alive, Upgrade"}, "Upgrade": {"websocket"},
			"Sec-Websocket-Version": {"13"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}}
	}
	cases := []struct {
		name   string
		change func(http.Header)
		method string
		status int
	}{
		{"no origin", func(http.Header) {}, "GET", 101},
		{"own origin", func(h http.Header) { h.Set("Origin", srv.URL) }, "GET", 101},
		{"a pattern's host", func(h http.Header) { h.Set("Origin", "https://chat.example.com") }, "GET", 101},
		{"a pattern's scheme and host", func(h http.Header) { h.Set("Origin", "https://embed.test") }, "GET", 101},
		{"the pattern's host on another scheme", func(h http.Header) { h.Set("Origin", "http://embed.test") }, "GET", 403},
		{"another site", func(h http.Header) { h.Set("Origin", "https://evil.test") }, "GET", 403},
		{"origin null", func(h http.Header) { h.Set("Origin", "null") }, "GET", 403},
		{"no upgrade", func(h http.Header) { h.Del("Upgrade") }, "GET", 426},
		{"another version", func(h http.Header) { h.Set("Sec-Websocket-Version", "8") }, "GET", 426},
		{"a short key", func(h http.Header) { h.Set("Sec-Websocket-Key", "c2hvcnQ=") }, "GET", 400},
		{"a POST", func(http.Header) {}, "POST", 405},
	}
	for _, tc := range cases {
		h := good()
		tc.change(h)
		req, _ := http.NewRequest(tc.method, srv.URL, nil)
		req.Header = h
		resp, err := srv.Client().Transport.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
		if tc.status == 101 && resp.Header.Get("Sec-Websocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
			t.Errorf("%s: Sec-WebSocket-Accept %q", tc.name, resp.Header.Get("Sec-Websocket-Accept"))
		}
		if tc.name == "another version" && resp.Header.Get("Sec-Websocket-Version") != "13" {
			t.Errorf("a refused version is not told which one would do")
		}
	}
}

func TestAMessageOverTheLimitClosesWith1009(t *testing.T) {
	for _, mode := range []websocket.CompressionMode{websocket.CompressionDisabled, websocket.CompressionNoContextTakeover} {
		srv := server(t, Options{ReadLimit: 1000, Deflate: true}, echo)
		c := dial(t, srv, &websocket.DialOptions{CompressionMode: mode, CompressionThreshold: 1})
		write(t, c, strings.Repeat("a", 1000)) // at the limit: fine
		if got, err := read(t, c); err != nil || len(got) != 1000 {
			t.Fatalf("mode %v: a message at the limit: %d bytes, %v", mode, len(got), err)
		}
		// Compressed, this is a few bytes: the limit holds for what it inflates to.
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		c.Write(ctx, websocket.MessageText, []byte(strings.Repeat("a", 100_000)))
		cancel()
		if _, err := read(t, c); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
			t.Fatalf("mode %v: over the limit: %v", mode, err)
		}
	}
}

func TestPingWaitsForThePong(t *testing.T) {
	pinged := make(chan error, 1)
	srv := server(t, Options{}, func(c *Conn) {
		go func() { pinged <- c.Ping(wait); c.Close(StatusGoingAway, wait) }()
		for {
			if _, _, err := c.Read(); err != nil {
				return
			}
		}
	})
	c := dial(t, srv, nil)
	if _, err := read(t, c); websocket.CloseStatus(err) != websocket.StatusGoingAway { // reading answers the ping
		t.Fatalf("after the ping: %v", err)
	}
	if err := <-pinged; err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func TestTheClientsCloseIsAnswered(t *testing.T) {
	got := make(chan error, 1)
	srv := server(t, Options{}, func(c *Conn) {
		_, _, err := c.Read()
		got <- err
	})
	c := dial(t, srv, nil)
	if err := c.Close(4001, "bye"); err != nil { // returns once the server's close came back
		t.Fatalf("close: %v", err)
	}
	var ce CloseError
	if err := <-got; !errors.As(err, &ce) || ce.Code != 4001 {
		t.Fatalf("the server read %v", err)
	}
}

// rawClient is a client that writes frames by hand: for what no
// well-behaved client sends.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

// dialRaw handshakes by hand; early frames go in the same write as the
// handshake, before its answer.
func dialRaw(t *testing.T, srv *httptest.Server, early ...[]byte) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(wait))
	req := "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := nc.Write(append([]byte(req), bytes.Join(early, nil)...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	return &rawClient{t: t, nc: nc, br: br}
}

// frame is a client frame: masked, unless op has 0x100 set.
func frame(first byte, payload string, unmasked ...bool) []byte {
	mask := [4]byte{1, 2, 3, 4}
	b := []byte{first}
	n := len(payload)
	maskBit := byte(0x80)
	if len(unmasked) > 0 {
		maskBit = 0
	}
	switch {
	case n <= 125:
		b = append(b, maskBit|byte(n))
	default:
		b = binary.BigEndian.AppendUint16(append(b, maskBit|126), uint16(n))
	}
	if maskBit == 0 {
		return append(b, payload...)
	}
	b = append(b, mask[:]...)
	for i := range len(payload) {
		b = append(b, payload[i]^mask[i&3])
	}
	return b
}

// next reads a server frame: its first byte and payload.
func (rc *rawClient) next() (byte, []byte) {
	rc.t.Helper()
	var h [2]byte
	if _, err := rc.br.Read(h[:1]); err != nil {
		rc.t.Fatalf("reading a frame: %v", err)
	}
	if _, err := rc.br.Read(h[1:]); err != nil {
		rc.t.Fatal(err)
	}
	n := int(h[1] & 0x7f)
	if n == 126 {
		var l [2]byte
		rc.br.Read(l[:1])
		rc.br.Read(l[1:])
		n = int(binary.BigEndian.Uint16(l[:]))
	}
	p := make([]byte, n)
	for got := 0; got < n; {
		k, err := rc.br.Read(p[got:])
		if err != nil {
			rc.t.Fatal(err)
		}
		got += k
	}
	return h[0], p
}

func (rc *rawClient) wantClose(code StatusCode) {
	rc.t.Helper()
	first, p := rc.next()
	if first != 0x80|opClose || len(p) < 2 || StatusCode(binary.BigEndian.Uint16(p)) != code {
		rc.t.Fatalf("got frame %#x %q, want close %d", first, p, code)
	}
}

func TestFragmentsControlFramesAndEarlyFramesAreRead(t *testing.T) {
	srv := server(t, Options{}, echo)
	rc := dialRaw(t, srv, frame(0x80|opText, "early"))
	if first, p := rc.next(); first != 0x81 || string(p) != "early" {
		t.Fatalf("the frame sent with the handshake: %#x %q", first, p)
	}
	// A message in three fragments, with a ping between them.
	rc.nc.Write(bytes.Join([][]byte{frame(opText, "one "), frame(0x80|opPing, "p"), frame(opContinue, "two "), frame(0x80|opContinue, "three")}, nil))
	if first, p := rc.next(); first != 0x80|opPong || string(p) != "p" {
		t.Fatalf("the ping's answer: %#x %q", first, p)
	}
	if _, p := rc.next(); string(p) != "one two three" {
		t.Fatalf("the fragmented message: %q", p)
	}
}

func TestBreachesCloseWithTheirCode(t *testing.T) {
	cases := map[string]struct {
		frames []byte
		code   StatusCode
	}{
		"unmasked":               {frame(0x81, "hi", true), StatusProtocolError},
		"not UTF-8":              {frame(0x81, "\xff\xfe"), StatusInvalidData},
		"a lone continuation":    {frame(0x80, "hi"), StatusProtocolError},
		"a message inside one":   {append(frame(0x01, "a"), frame(0x81, "b")...), StatusProtocolError},
		"a reserved bit":         {frame(0x91, "hi"), StatusProtocolError},
		"compressed, not agreed": {frame(0xc1, "hi"), StatusProtocolError},
		"an unknown opcode":      {frame(0x83, "hi"), StatusProtocolError},
		"a fragmented ping":      {frame(0x09, "p"), StatusProtocolError},
		"a long ping":            {frame(0x89, strings.Repeat("p", 126)), StatusProtocolError},
		"a bad close code":       {frame(0x88, "\x03\xed"), StatusProtocolError}, // 1005
		// The fragment's length and the continuation's claimed one would wrap
		// past 2⁶³ added up.
		"a continuation claiming 2⁶³−1 bytes": {append(frame(0x01, "a"), 0x80, 0x80|127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4), StatusMessageTooBig},
	}
	for name, tc := range cases {
		srv := server(t, Options{}, echo)
		rc := dialRaw(t, srv, tc.frames)
		t.Run(name, func(t *testing.T) {
			rc.t = t
			rc.wantClose(tc.code)
		})
	}
}

// Package wsock is the server side of the WebSocket protocol (RFC 6455)
// as the hub needs it: the handshake with an origin check, a reader of
// the client's messages, and writers for text messages and for messages
// compressed by the caller (permessage-deflate, RFC 7692, with the
// server's context kept from message to message). The hub compresses
// each event once for all its sockets and writes it per socket with that
// socket's own back-references (hub/gzipstream.go), which no WebSocket
// library lets a caller do: they compress each socket's messages
// themselves, a compressor per socket.
package wsock

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Options are what Accept allows.
type Options struct {
	// OriginPatterns are the hosts (path.Match patterns, or
	// scheme://host ones) that may open a socket besides the request's own
	// host. A request without Origin (not from a browser) is let in.
	OriginPatterns []string
	// ReadLimit caps one message from the client, inflated (default 64 KiB);
	// a longer one closes the socket with StatusMessageTooBig.
	ReadLimit int64
	// Deflate accepts a client's permessage-deflate offer where the server
	// may keep its context: WriteCompressed is then allowed (Deflate tells).
	Deflate bool
	// WriteTimeout bounds the writes the connection makes itself: pongs
	// and the close handshake's reply (default 10 s).
	WriteTimeout time.Duration
}

// keyGUID is what RFC 6455 appends to the client's key before hashing.
const keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Accept upgrades r to a WebSocket. When it fails it has answered the
// request: 403 for an origin not allowed, 4xx for a request that is not a
// WebSocket handshake.
func Accept(w http.ResponseWriter, r *http.Request, opt Options) (*Conn, error) {
	if code, err := checkHandshake(w.Header(), r); err != nil {
		http.Error(w, err.Error(), code)
		return nil, err
	}
	if err := checkOrigin(r, opt.OriginPatterns); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return nil, err
	}
	answer, deflate := "", false
	if opt.Deflate {
		answer, deflate = deflateAnswer(r.Header.Values("Sec-WebSocket-Extensions"))
	}
	hd := w.Header()
	hd.Set("Upgrade", "websocket")
	hd.Set("Connection", "Upgrade")
	hd.Set("Sec-WebSocket-Accept", acceptKey(strings.TrimSpace(r.Header.Get("Sec-WebSocket-Key"))))
	if deflate {
		hd.Set("Sec-WebSocket-Extensions", answer)
	}
	// Written through net/http, so headers set before (a security
	// policy) go too; Hijack sends it.
	w.WriteHeader(http.StatusSwitchingProtocols)
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, fmt.Errorf("websocket: cannot take the connection over: %w", err)
	}
	// A client may send its first frames right behind the handshake; any
	// already read stay in front. The buffers themselves are let go: an
	// idle socket holds no 4 KB of them.
	var in io.Reader = nc
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		in = io.MultiReader(bytes.NewReader(bytes.Clone(early)), nc)
	}
	brw.Reader.Reset(nil)
	brw.Writer.Reset(nil)
	return newConn(nc, in, deflate, opt), nil
}

// checkHandshake tells what is wrong with r as a WebSocket handshake, and
// the status that says so; it sets the headers that tell a client what
// would do.
func checkHandshake(hd http.Header, r *http.Request) (int, error) {
	if !r.ProtoAtLeast(1, 1) {
		return http.StatusUpgradeRequired, fmt.Errorf("websocket: the handshake must be HTTP/1.1 or newer, not %s", r.Proto)
	}
	if !hasToken(r.Header, "Connection", "upgrade") || !hasToken(r.Header, "Upgrade", "websocket") {
		hd.Set("Connection", "Upgrade")
		hd.Set("Upgrade", "websocket")
		return http.StatusUpgradeRequired, errors.New("websocket: not an upgrade to websocket")
	}
	if r.Method != http.MethodGet {
		return http.StatusMethodNotAllowed, fmt.Errorf("websocket: the handshake must be GET, not %s", r.Method)
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		hd.Set("Sec-WebSocket-Version", "13")
		return http.StatusUpgradeRequired, fmt.Errorf("websocket: version %q is not supported (13 is)", r.Header.Get("Sec-WebSocket-Version"))
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return http.StatusBadRequest, errors.New("websocket: the handshake needs one Sec-WebSocket-Key")
	}
	if k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(keys[0])); err != nil || len(k) != 16 {
		return http.StatusBadRequest, errors.New("websocket: Sec-WebSocket-Key must be 16 bytes in base64")
	}
	return 0, nil
}

// checkOrigin lets in a request from its own host, from a host that
// matches a pattern, or from no browser at all (no Origin): a page on
// another site must not open a socket with its visitor's cookies.
func checkOrigin(r *http.Request, patterns []string) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("websocket: Origin %q is not a URL with a host", origin)
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return nil
		}
	}
	return fmt.Errorf("websocket: Origin %q may not open a socket on %s", origin, r.Host)
}

func acceptKey(key string) string {
	sum := sha1.Sum([]byte(key + keyGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// hasToken reports whether header name lists token (comma-separated,
// any case).
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// deflateAnswer is the answer to the first of the client's extension
// offers that is permessage-deflate as the server sends it: its context
// kept from message to message, with the full 32 KB window. An offer that
// asks otherwise (server_no_context_takeover, a smaller server window) or
// carries a parameter RFC 7692 does not define is declined, as the RFC
// says. The client's messages are asked to come compressed each on its
// own (client_no_context_takeover): inflating them then needs no window
// kept per socket.
func deflateAnswer(values []string) (string, bool) {
	for _, v := range values {
		for offer := range strings.SplitSeq(v, ",") {
			if fits, fullWindow := deflateOfferFits(offer); fits {
				answer := "permessage-deflate; client_no_context_takeover"
				if fullWindow {
					answer += "; server_max_window_bits=15" // an accepted limit is echoed
				}
				return answer, true
			}
		}
	}
	return "", false
}

// deflateOfferFits reports whether offer can be accepted, and whether it
// named the server's window (which the answer must then name too).
func deflateOfferFits(offer string) (fits, namedWindow bool) {
	params := strings.Split(offer, ";")
	if strings.TrimSpace(params[0]) != "permessage-deflate" {
		return false, false
	}
	seen := map[string]bool{}
	for _, p := range params[1:] {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		name, value = strings.TrimSpace(name), strings.Trim(strings.TrimSpace(value), `"`)
		if seen[name] {
			return false, false // a parameter twice makes the offer invalid
		}
		seen[name] = true
		switch name {
		case "client_no_context_takeover":
			if value != "" {
				return false, false
			}
		case "client_max_window_bits":
			// The client's window is its own affair: its messages come
			// without context.
			if value != "" && !windowBits(value) {
				return false, false
			}
		case "server_max_window_bits":
			if value != "15" {
				return false, false // the server's back-references reach 32 KB
			}
			namedWindow = true
		default: // server_no_context_takeover, or unknown
			return false, false
		}
	}
	return true, namedWindow
}

// windowBits reports whether v is a window size RFC 7692 allows: 8 to 15.
func windowBits(v string) bool {
	n, err := strconv.Atoi(v)
	return err == nil && n >= 8 && n <= 15 && strconv.Itoa(n) == v
}

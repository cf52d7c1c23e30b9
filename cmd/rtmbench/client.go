package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// account is a benchmark user with a ready session.
type account struct {
	name  string
	index int // in env.accts
	token string
}

// node is which of n nodes serves a, its stream and its posts alike, as a
// sticky load balancer would. Accounts alternate, so every room of the
// layout has half its members on each of two nodes.
func (a *account) node(n int) int { return a.index % n }

// poster sends form posts over a shared pool of keep-alive connections,
// each to its author's node (bases[author.node]).
type poster struct {
	bases []string
	hc    *http.Client
	open  map[string]*atomic.Int64 // connections open now, by node address
}

// countedConn keeps poster.open up to date.
type countedConn struct {
	net.Conn
	open   *atomic.Int64
	closed atomic.Bool
}

func (c *countedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.open.Add(-1)
	}
	return c.Conn.Close()
}

func newPoster(bases ...string) *poster {
	p := &poster{bases: bases, open: map[string]*atomic.Int64{}}
	for _, base := range bases {
		p.open[hostOf(base)] = new(atomic.Int64)
	}
	var d net.Dialer
	tr := &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute, DisableCompression: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil || p.open[addr] == nil {
				return c, err
			}
			p.open[addr].Add(1)
			return &countedConn{Conn: c, open: p.open[addr]}, nil
		},
	}
	p.hc = &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return p
}

// hostOf is the host:port a base URL dials, as the transport names it.
func hostOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// connect makes sure the pool holds n keep-alive connections to every
// node before a measured phase: a browser posts over a connection its page
// load opened, so the time to open one is not part of what a post costs.
// Rounds of n concurrent health checks each open a connection for any
// that finds none idle; after a few rounds or 10 s it goes on regardless,
// and the measurement then includes a few connections opened, as it used
// to.
func (p *poster) connect(ctx context.Context, n int) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for round := 0; round < 5 && ctx.Err() == nil; round++ {
		var wg sync.WaitGroup
		for _, base := range p.bases {
			if p.open[hostOf(base)].Load() >= int64(n) {
				continue
			}
			for range n { // in flight together, they need n connections
				wg.Go(func() { discard(p.hc.Do(newGet(ctx, base+"/healthz"))) })
			}
		}
		wg.Wait()
		if p.holds(n) {
			return
		}
	}
}

// holds reports whether the pool has n connections open to every node.
func (p *poster) holds(n int) bool {
	for _, open := range p.open {
		if open.Load() < int64(n) {
			return false
		}
	}
	return true
}

func newGet(ctx context.Context, url string) *http.Request {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		panic(err) // only well-formed URLs of the run's own servers reach here
	}
	return req
}

// discard reads an answer to its end, so its connection goes back to the
// pool, and closes it.
func discard(resp *http.Response, err error) {
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// url is path on a's node.
func (p *poster) url(a *account, path string) string { return p.bases[a.node(len(p.bases))] + path }

func mustReq(ctx context.Context, p *poster, a *account, path string, form url.Values) *http.Request {
	req, err := http.NewRequestWithContext(ctx, "POST", p.url(a, path), strings.NewReader(form.Encode()))
	if err != nil {
		panic(err) // only constant, well-formed paths reach here
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "rtm_session="+a.token)
	// As every browser does: the server compresses an answer over 1 KB,
	// and that is part of what a post costs it.
	req.Header.Set("Accept-Encoding", "gzip")
	return req
}

// post sends a form as a; it reports the status.
func (p *poster) post(ctx context.Context, a *account, path string, form url.Values, htmx bool) (int, error) {
	req := mustReq(ctx, p, a, path, form)
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, err
	}
	discard(resp, nil)
	return resp.StatusCode, nil
}

// itemMarker starts a message's id in the answer to a post.
var itemMarker = []byte(`<li id="msg-`)

// send posts a message as a to room, as htmx does. With withID it reads
// the new message's id from the answer, for edits and reactions to aim at.
func (p *poster) send(ctx context.Context, a *account, room int64, form url.Values, withID bool) (status int, id int64, err error) {
	path := "/rooms/" + strconv.FormatInt(room, 10) + "/messages"
	if !withID {
		status, err = p.post(ctx, a, path, form, true)
		return status, 0, err
	}
	req := mustReq(ctx, p, a, path, form)
	req.Header.Set("HX-Request", "true")
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var answer io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return resp.StatusCode, 0, err
		}
		answer = zr
	}
	b, err := io.ReadAll(answer)
	if i := bytes.Index(b, itemMarker); i >= 0 {
		rest := b[i+len(itemMarker):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			id, _ = strconv.ParseInt(string(rest[:j]), 10, 64)
		}
	}
	if err == nil && resp.StatusCode == 200 && id == 0 {
		err = errors.New("no message id in the answer to a post")
	}
	return resp.StatusCode, id, err
}

// get fetches a page as a and returns its body.
func (p *poster) get(ctx context.Context, a *account, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", p.url(a, path), nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Cookie", "rtm_session="+a.token)
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// delivery is one message event a stream received.
type delivery struct {
	id   int64
	kind kind
	sent time.Time // the post's or edit's scheduled time, from its body; zero for a reaction
	seq  int64     // the post's or edit's number in its load, from its body
	at   time.Time
}

// kind is what a message event brings. Edits and reactions go out under
// new event ids with the message's own msg-id, so counting them as
// messages would inflate deliveries (and an edit carries a body marker).
type kind uint8

const (
	message  kind = iota // a new benchmark message: counted and timed
	edit                 // a message's new text: its fragment says "edited"
	reaction             // a message's reaction bar alone: no text
)

// stream is one SSE connection read by its own goroutine, with as little
// machinery as possible so the generator stays lighter than the server.
type stream struct {
	acct    *account
	conn    net.Conn     // the stream's connection: SSE or WebSocket
	wire    atomic.Int64 // bytes read from the socket
	lastID  atomic.Int64
	paused  atomic.Bool // a stalled reader: stops reading
	stalled bool        // not counted in deliveries or latency
	seen    *seenSet
	rooms   []int64 // rooms whose messages this stream should get
	// typing and presence count the stream's typing and presence events.
	typing, presence atomic.Int64
	done             chan struct{}
	err              error
}

// readHead reads the answer to the stream's request, its bytes counted;
// any status but want closes the connection.
func (s *stream) readHead(want int, what string) (*bufio.Reader, *http.Response, error) {
	br := bufio.NewReaderSize(countingConn{s.conn, &s.wire}, 4096)
	s.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err == nil && resp.StatusCode != want {
		err = fmt.Errorf("%s for %s: %s", what, s.acct.name, resp.Status)
	}
	if err != nil {
		s.conn.Close()
		return nil, nil, err
	}
	s.conn.SetReadDeadline(time.Time{})
	return br, resp, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// dialStream opens acct's stream, resuming after lastID (0: from after).
// seen records what the stream got; a reconnect passes the old one on.
func dialStream(ctx context.Context, addr string, acct *account, after, lastID int64, seen *seenSet, onEvent func(*stream, delivery)) (*stream, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &stream{acct: acct, conn: conn, done: make(chan struct{}), seen: seen}
	resume := ""
	if lastID > 0 {
		resume = "Last-Event-ID: " + strconv.FormatInt(lastID, 10) + "\r\n"
	}
	// Like a browser, it accepts gzip: the wire bytes counted are the
	// compressed ones.
	fmt.Fprintf(conn, "GET /events?after=%d HTTP/1.1\r\nHost: %s\r\nCookie: rtm_session=%s\r\nAccept: text/event-stream\r\nAccept-Encoding: gzip\r\n%s\r\n",
		after, addr, acct.token, resume)
	_, resp, err := s.readHead(http.StatusOK, "stream")
	if err != nil {
		return nil, err
	}
	body := io.Reader(resp.Body)
	if resp.Header.Get("Content-Encoding") == "gzip" {
		// The header arrives with the stream's first event, not before.
		body = &lazyGzip{r: resp.Body}
	}
	go s.read(body, onEvent)
	return s, nil
}

// lazyGzip decodes a gzip body, starting at the first read: a compressed
// stream's gzip header comes with its first event.
type lazyGzip struct {
	r  io.Reader
	zr *gzip.Reader
}

func (l *lazyGzip) Read(p []byte) (int, error) {
	if l.zr == nil {
		zr, err := gzip.NewReader(l.r)
		if err != nil {
			return 0, err
		}
		l.zr = zr
	}
	return l.zr.Read(p)
}

func (s *stream) read(body io.Reader, onEvent func(*stream, delivery)) {
	defer close(s.done)
	rd := bufio.NewReaderSize(body, 8192)
	var id int64
	var ev event
	for {
		for s.paused.Load() {
			time.Sleep(50 * time.Millisecond)
		}
		line, err := rd.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) { // an over-long data line: skip the rest
				_, err = rd.ReadSlice('\n')
			}
		}
		if err != nil {
			s.err = err
			return
		}
		switch {
		case len(line) <= 2 && (line[0] == '\n' || line[0] == '\r'):
			if d, ok := ev.delivery(id, time.Now()); ok {
				onEvent(s, d)
			}
			if id > 0 {
				s.lastID.Store(id)
			}
			id, ev = 0, event{}
		case bytes.HasPrefix(line, []byte("id: ")):
			id, _ = strconv.ParseInt(string(bytes.TrimSpace(line[4:])), 10, 64)
		case bytes.HasPrefix(line, []byte("event: rtm-typing")):
			s.typing.Add(1)
		case bytes.HasPrefix(line, []byte("event: rtm-presence")):
			s.presence.Add(1)
		case bytes.HasPrefix(line, []byte("data: ")):
			sseMarkers.scan(line, &ev)
		}
	}
}

func (s *stream) close() {
	s.conn.Close()
	<-s.done
}

// seenSet tracks which message ids one stream has had, to count duplicates
// and out-of-order arrivals; ids are offset by the workload's first id.
type seenSet struct {
	mu   sync.Mutex
	base int64
	bits []uint64
	last int64
	dups int64
	ooo  int64
	n    int64
}

func (ss *seenSet) reset(base int64) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.base, ss.bits, ss.last, ss.dups, ss.ooo, ss.n = base, nil, 0, 0, 0, 0
}

// add records id and reports whether it is new.
func (ss *seenSet) add(id int64) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	i := id - ss.base
	if i < 0 {
		return false
	}
	w := int(i / 64)
	for w >= len(ss.bits) {
		ss.bits = append(ss.bits, 0)
	}
	mask := uint64(1) << (i % 64)
	if ss.bits[w]&mask != 0 {
		ss.dups++
		return false
	}
	ss.bits[w] |= mask
	if id < ss.last {
		ss.ooo++
	}
	ss.last = max(ss.last, id)
	ss.n++
	return true
}

// body is a benchmark message: its scheduled send time, then padding.
func body(sched time.Time, seq int64) string {
	return "t" + strconv.FormatInt(sched.UnixNano(), 10) + "s" + strconv.FormatInt(seq, 10) + " benchmark message with some ordinary chat-length text"
}

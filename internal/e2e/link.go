package e2e

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Link is an unreliable network link between the browser and a server: a
// proxy in the test that can be cut (open connections dropped, new ones
// closed as they come), refuse only the event stream, or lose answers
// (pass posts on to the server and drop the connection instead of
// answering, so the browser never learns whether they were stored).
// Chromium's offline emulation would not do: it leaves an open stream
// running.
type Link struct {
	URL string // base URL through the link

	t       *testing.T
	srv     *http.Server
	proxy   *httputil.ReverseProxy
	through *http.Transport

	mu       sync.Mutex
	cut      bool
	streams  bool                     // refusing /events
	silenced int                      // streams opened before the latest Silence pass nothing
	lose     string                   // path prefix of POSTs whose answers are lost
	lost     chan int                 // the status the server gave each lost answer
	inFlight map[*int]func()          // cancels each request passing through
	gates    map[string]chan struct{} // paths whose requests wait to be let through
	deferred map[string]string        // page path: the script its body ends with
	handlers sync.WaitGroup
}

// StartLink runs a link to s until the test ends. Open tabs on
// link.Server() to go through it.
func StartLink(t *testing.T, s *Server) *Link {
	t.Helper()
	target, ln := listenInFront(t, s)
	l := &Link{URL: "http://" + ln.Addr().String(), t: t, lost: make(chan int, 8), inFlight: map[*int]func(){}, gates: map[string]chan struct{}{}, deferred: map[string]string{}}
	l.through = &http.Transport{}
	l.proxy = httputil.NewSingleHostReverseProxy(target)
	l.proxy.Transport = l.through
	l.proxy.ModifyResponse = l.addDeferred
	l.proxy.FlushInterval = -1                    // a stream's events pass at once
	l.proxy.ErrorLog = log.New(io.Discard, "", 0) // a cut is the point, not news
	l.srv = &http.Server{Handler: l, ErrorLog: log.New(io.Discard, "", 0)}
	go l.srv.Serve(ln)
	t.Cleanup(func() {
		l.Cut()
		l.srv.Close()
		done := make(chan struct{})
		go func() { l.handlers.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(waitLimit):
			t.Error("e2e: the link's requests did not end")
		}
		l.through.CloseIdleConnections()
	})
	return l
}

// listenInFront opens a listener for something that stands between the
// browser and s, and gives s's address.
func listenInFront(t *testing.T, s *Server) (*url.URL, net.Listener) {
	t.Helper()
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return target, ln
}

// Server is the link as a server to open tabs on.
func (l *Link) Server() *Server { return &Server{URL: l.URL, t: l.t} }

// Cut drops every connection through the link and closes new ones as
// they come, until Restore.
func (l *Link) Cut() {
	l.mu.Lock()
	l.cut = true
	for _, cancel := range l.inFlight {
		cancel()
	}
	l.mu.Unlock()
	l.srv.SetKeepAlivesEnabled(false) // closes idle connections too
	l.through.CloseIdleConnections()
}

// Silence makes the event streams open now pass nothing more, without
// closing: to the browser, a connection that died without a word (a
// laptop that slept, a NAT that forgot it). Requests made later pass.
func (l *Link) Silence() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.silenced++
}

// Restore lets connections through again.
func (l *Link) Restore() {
	l.mu.Lock()
	l.cut, l.streams = false, false
	l.mu.Unlock()
	l.srv.SetKeepAlivesEnabled(true)
}

// RefuseStreams closes every request for the event stream, and drops the
// open ones, until Restore; pages and posts pass.
func (l *Link) RefuseStreams() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.streams = true
	for _, cancel := range l.inFlight {
		cancel() // pages and posts in flight end too; none is expected now
	}
}

// LoseAnswers makes the link pass each POST whose path starts with prefix
// on to the server, and then drop the browser's connection instead of
// answering, until KeepAnswers. (Not just the next one: Chromium sends a
// post again by itself when a reused connection closes without a word.)
// LostAnswer says when an answer was lost.
func (l *Link) LoseAnswers(prefix string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lose = prefix
}

// Gate makes requests for path wait at the link until release is called,
// and then pass on. For a script the page defers (the browser holds its
// DOMContentLoaded until it has it) or a stream that must not connect yet.
func (l *Link) Gate(path string) (release func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	l.gates[path] = ch
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

// DeferScript makes the page at path end with a deferred script from
// script as it passes: the page is parsed, and its DOMContentLoaded waits
// for that script (which Gate can hold back).
func (l *Link) DeferScript(path, script string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.deferred[path] = script
}

func (l *Link) addDeferred(res *http.Response) error {
	l.mu.Lock()
	script := l.deferred[res.Request.URL.Path]
	l.mu.Unlock()
	if script == "" || res.Request.Method != http.MethodGet {
		return nil
	}
	page, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return err
	}
	page = bytes.Replace(page, []byte("</body>"), []byte(`<script defer src="`+script+`"></script></body>`), 1)
	res.Body = io.NopCloser(bytes.NewReader(page))
	res.ContentLength = int64(len(page))
	res.Header.Set("Content-Length", strconv.Itoa(len(page)))
	return nil
}

// KeepAnswers ends LoseAnswers.
func (l *Link) KeepAnswers() { l.LoseAnswers("") }

// LostAnswer waits for an answer LoseAnswers lost and returns the status
// the server had given it.
func (l *Link) LostAnswer() int {
	l.t.Helper()
	select {
	case status := <-l.lost:
		return status
	case <-time.After(waitLimit):
		l.t.Fatalf("e2e: no answer was lost within %v", waitLimit)
		return 0
	}
}

func (l *Link) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.handlers.Add(1)
	defer l.handlers.Done()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	key := new(int)
	l.mu.Lock()
	l.inFlight[key] = cancel
	gate := l.gates[r.URL.Path]
	if l.deferred[r.URL.Path] != "" {
		// Rewritten as it passes: without the browser's encodings, Go's
		// transport asks for gzip itself and hands over the decoded page.
		r.Header.Del("Accept-Encoding")
	}
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.inFlight, key)
		l.mu.Unlock()
	}()
	if refused, _ := l.verdict(r); gate != nil && !refused {
		select {
		case <-gate:
		case <-ctx.Done(): // cut meanwhile: to the browser, a network failure
			hangUp(w)
			return
		}
	}
	refused, lose := l.verdict(r) // as the link is now, after any wait at a gate
	switch {
	case refused:
		hangUp(w)
	case lose:
		l.proxy.ServeHTTP(&swallow{header: http.Header{}, lost: l.lost}, r.WithContext(ctx))
		hangUp(w)
	case r.URL.Path == "/events":
		l.mu.Lock()
		m := &muffled{ResponseWriter: w, l: l, from: l.silenced}
		l.mu.Unlock()
		l.proxy.ServeHTTP(m, r.WithContext(ctx))
	default:
		l.proxy.ServeHTTP(w, r.WithContext(ctx))
	}
}

// muffled passes a stream on until the link silences the streams opened
// before: from then on it drops what the server sends.
type muffled struct {
	http.ResponseWriter
	l    *Link
	from int
}

func (m *muffled) silent() bool {
	m.l.mu.Lock()
	defer m.l.mu.Unlock()
	return m.l.silenced > m.from
}

func (m *muffled) Write(p []byte) (int, error) {
	if m.silent() {
		return len(p), nil
	}
	return m.ResponseWriter.Write(p)
}

func (m *muffled) Flush() {
	if !m.silent() {
		http.NewResponseController(m.ResponseWriter).Flush()
	}
}

// verdict says what the link, as it is now, does with r: drop it, or
// pass it on and lose the answer.
func (l *Link) verdict(r *http.Request) (refused, lose bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	refused = l.cut || (l.streams && r.URL.Path == "/events")
	lose = !refused && l.lose != "" && r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, l.lose)
	return refused, lose
}

// hangUp closes the browser's connection without a word: to the browser,
// a network failure.
func hangUp(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
	}
}

// swallow takes the server's answer to a post whose answer is lost, and
// reports its status.
type swallow struct {
	header http.Header
	lost   chan int
	status int
}

func (s *swallow) Header() http.Header { return s.header }
func (s *swallow) Write(b []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(b), nil
}
func (s *swallow) WriteHeader(status int) {
	if s.status != 0 {
		return
	}
	s.status = status
	select {
	case s.lost <- status:
	default:
	}
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/internal/sseclient"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		removeBinary()
		os.Exit(code)
	}))
}

// server is a real rtmessenger run() on a free loopback port.
type server struct {
	t    *testing.T
	url  string
	stop func() error
	log  *serverLog
}

// serverLog keeps what the server logged, for checks after the fact.
type serverLog struct {
	mu    sync.Mutex
	lines []string
	ended chan struct{} // closed once the server's output has ended (startServer)
}

// all returns every line, once the server has stopped and its output ended.
func (l *serverLog) all(t *testing.T) []string {
	t.Helper()
	select {
	case <-l.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the server's output did not end")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

func (l *serverLog) add(line string) {
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
}

// shutdownWarnings returns the warnings and errors logged from "shutting
// down" on: each means a step of the shutdown failed or waited out its
// grace, which is what a slow shutdown would be made of.
func (l *serverLog) shutdownWarnings() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	shutting := false
	for _, line := range l.lines {
		shutting = shutting || strings.Contains(line, `msg="shutting down"`)
		if shutting && (strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR")) {
			out = append(out, line)
		}
	}
	return out
}

// listening finds the server's URL in its "listening" line, in either
// log format.
var listening = regexp.MustCompile(`msg=listening url=(\S+)|"msg":"listening","url":"([^"]+)"`)

func listeningURL(line string) string {
	if m := listening.FindStringSubmatch(line); m != nil {
		return m[1] + m[2]
	}
	return ""
}

// startServer runs the server on db until the test ends (or stop is called).
func startServer(t *testing.T, db string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	args = append([]string{"-addr", "127.0.0.1:0", "-db", db, "-password-memory", "64"}, args...)
	go func() {
		err := run(ctx, args, func(string) string { return "" }, pw)
		pw.Close()
		done <- err
	}()
	urls := make(chan string, 1)
	echo := os.Getenv("RTM_TEST_LOG") != "" // show the server's log in test output
	log := &serverLog{ended: make(chan struct{})}
	go func() {
		defer close(log.ended)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			log.add(sc.Text())
			if echo {
				t.Log(sc.Text())
			}
			if u := listeningURL(sc.Text()); u != "" {
				urls <- u
			}
		}
		io.Copy(io.Discard, pr)
	}()
	s := &server{t: t, log: log}
	select {
	case s.url = <-urls:
	case err := <-done:
		t.Fatalf("server exited: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	stopped := false
	s.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			return fmt.Errorf("server did not stop within 10s")
		}
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// person is one user with their own cookies.
type person struct {
	s    *server
	name string
	c    *http.Client
}

func (s *server) signup(name string) *person {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	p := &person{s: s, name: name, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	s.t.Cleanup(p.c.CloseIdleConnections)
	if loc := p.post("/signup", url.Values{"username": {name}, "password": {"secret-" + name}}); loc != "/rooms" {
		s.t.Fatalf("signup %s redirected to %q", name, loc)
	}
	return p
}

// post submits a form like a browser without script; it returns the redirect.
func (p *person) post(path string, form url.Values) string {
	p.s.t.Helper()
	resp, err := p.c.PostForm(p.s.url+path, form)
	if err != nil {
		p.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusSeeOther {
		p.s.t.Fatalf("POST %s: %s\n%s", path, resp.Status, body)
	}
	return resp.Header.Get("Location")
}

func (p *person) createRoom(name string) string {
	p.s.t.Helper()
	return p.post("/rooms", url.Values{"name": {name}})
}

func (p *person) say(room, text string) {
	p.s.t.Helper()
	if loc := p.post(room+"/messages", url.Values{"body": {text}}); loc != room {
		p.s.t.Fatalf("post redirected to %q", loc)
	}
}

// events is an open stream read in the background.
type events struct {
	t    *testing.T
	body io.Closer
	bg   *sseclient.Background
	// after is where a page's stream started: the page already shows
	// the messages up to it, which may still arrive live (the relay
	// publishes after the commit), and would replace themselves there.
	// seen are the fragments next returned: one may come twice, replayed
	// and live, and would replace itself too.
	after int64
	seen  map[string]bool
}

var streamAfter = regexp.MustCompile(`data-connect="/events\?after=(\d+)"`)

// stream opens p's stream: as a reconnecting browser does when
// lastEventID is set, else as a freshly loaded page does.
func (p *person) stream(lastEventID string) *events {
	p.s.t.Helper()
	path, after := "/events", int64(0)
	if lastEventID == "" {
		after = p.pageStreamsAfter()
		path += fmt.Sprintf("?after=%d", after)
	}
	req, _ := http.NewRequest("GET", p.s.url+path, nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := p.c.Do(req)
	if err != nil {
		p.s.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		p.s.t.Fatalf("stream: %s", resp.Status)
	}
	e := &events{t: p.s.t, body: resp.Body, bg: sseclient.Read(resp.Body), after: after, seen: map[string]bool{}}
	p.s.t.Cleanup(func() { resp.Body.Close() })
	return e
}

// pageStreamsAfter loads a page and returns the id its stream starts after.
func (p *person) pageStreamsAfter() int64 {
	p.s.t.Helper()
	resp, err := p.c.Get(p.s.url + "/rooms")
	if err != nil {
		p.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := streamAfter.FindSubmatch(body)
	if m == nil {
		p.s.t.Fatalf("no stream on the page:\n%s", body)
	}
	var after int64
	fmt.Sscan(string(m[1]), &after)
	return after
}

// next returns the next event, skipping fragments a page would already
// show (those up to where it started, and those it was sent before) and
// who is online or typing: that is only the latest word, sent when a flush
// timer fires, which a loaded machine may do before the message a test
// waits for. No test here asserts it.
func (e *events) next() sseclient.Event {
	e.t.Helper()
	return e.nextExcept(func(ev sseclient.Event) bool { return lossy(ev.Name) })
}

// nextExcept is next, skipping the events skip picks instead.
func (e *events) nextExcept(skip func(sseclient.Event) bool) sseclient.Event {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second) // skipped events do not extend it
	for {
		ev, err := e.bg.Next(time.Until(deadline))
		if err != nil {
			e.t.Fatalf("next event: %v", err)
		}
		switch {
		case skip(ev):
			continue
		case ev.Name != "":
			return ev
		}
		// Keyed by the bytes too: a read mark or receipt takes the id
		// of the newest message before it.
		if key := ev.ID + "\n" + ev.Data; ev.IntID() > e.after && !e.seen[key] {
			e.seen[key] = true
			return ev
		}
	}
}

func lossy(name string) bool { return name == "rtm-presence" || name == "rtm-typing" }

// nothingBefore asserts the stream carried nothing before a sentinel
// message that p posts now in room, one of p's own: messages committed
// earlier are published earlier, so anything the stream wrongly carried
// would arrive first. No quiet period to guess at on a loaded machine.
// Who is online or typing in room itself may come first; in any other
// room it fails the test like any other event.
func (e *events) nothingBefore(p *person, room, sentinel string) {
	e.t.Helper()
	p.say(room, sentinel)
	inRoom := `data-room="` + strings.TrimPrefix(room, "/rooms/") + `"`
	ev := e.nextExcept(func(ev sseclient.Event) bool { return lossy(ev.Name) && strings.Contains(ev.Data, inRoom) })
	if !strings.Contains(ev.Data, sentinel) {
		e.t.Fatalf("want nothing before the sentinel %q, got %+v", sentinel, ev)
	}
}

// The end-to-end scenario: A and B share room 1, C does not; B
// drops off, misses three messages and gets exactly those on reconnect.
func TestChatEndToEnd(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "e2e.db"))
	a, b, c := s.signup("anna"), s.signup("ben"), s.signup("cleo")
	room := a.createRoom("room-one")
	b.post(room+"/join", nil)
	cleos := c.createRoom("cleo-alone") // for sentinels on cleo's stream

	// A stream answers only once it is subscribed, so nothing posted after
	// this can be missed.
	bs, cs := b.stream(""), c.stream("")
	a.say(room, "hello ben")
	got := bs.next()
	if !strings.Contains(got.Data, "hello ben") || !strings.Contains(got.Data, `id="msg-`+got.ID+`"`) {
		t.Fatalf("ben got %+v", got)
	}
	cs.nothingBefore(c, cleos, "sentinel one")

	bs.body.Close()
	var want []string
	for i := range 3 {
		text := fmt.Sprintf("while you were away %d", i)
		a.say(room, text)
		want = append(want, text)
	}
	again := b.stream(got.ID)
	seen := map[string]bool{}
	for len(want) > 0 {
		ev := again.next()
		if ev.IntID() <= got.IntID() {
			continue // a duplicate is allowed, never a gap
		}
		if seen[ev.ID] {
			continue
		}
		seen[ev.ID] = true
		if !strings.Contains(ev.Data, want[0]) {
			t.Fatalf("replay out of order: got %q, want %q", ev.Data, want[0])
		}
		want = want[1:]
	}
	cs.nothingBefore(c, cleos, "sentinel two")
}

// Messages survive a restart, and a client resumes across it.
func TestResumeAcrossRestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "restart.db")
	s := startServer(t, db)
	a := s.signup("anna")
	room := a.createRoom("durable")
	a.say(room, "before restart")
	es := a.stream("")
	a.say(room, "seen live")
	last := es.next()
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if !es.bg.Ended(5 * time.Second) {
		t.Fatal("stream still open after shutdown")
	}

	s2 := startServer(t, db)
	jar := a.c.Jar // the session lives in the database too
	u, _ := url.Parse(s2.url)
	old, _ := url.Parse(s.url)
	jar.SetCookies(u, jar.Cookies(old))
	a.s = s2
	a.say(room, "after restart")
	ev := a.stream(last.ID).next()
	if !strings.Contains(ev.Data, "after restart") || ev.IntID() != last.IntID()+1 {
		t.Fatalf("after restart got %+v (last seen %s)", ev, last.ID)
	}
}

func TestShutdownEndsOpenStreams(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "shut.db"))
	a := s.signup("anna")
	var all []*events
	for range 20 {
		all = append(all, a.stream("")) // each answers once subscribed
	}
	start := time.Now()
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	// Not a bound on the time, which a loaded machine stretches: the
	// shutdown must not have had to give up on anything.
	if w := s.log.shutdownWarnings(); len(w) > 0 {
		t.Fatalf("shutdown warned, after %v:\n%s", time.Since(start), strings.Join(w, "\n"))
	}
	for _, e := range all {
		if !e.bg.Ended(5 * time.Second) {
			t.Fatal("a stream outlived the shutdown")
		}
	}
}

func TestBadFlagsFail(t *testing.T) {
	for _, args := range [][]string{{"-replay-limit", "0"}, {"-log-level", "loud"}, {"stray"}, {"-tls-cert", "x.pem"}, {"-post-rate", "-1"},
		{"-public-url", "chat.example.com"}, {"-public-url", "https://chat.example.com/app"}, {"-public-url", "ftp://chat.example.com"},
		{"-bus", "http://127.0.0.1:6379"}, {"-bus", "redis://127.0.0.1:6379/0?bogus=1"}, {"-log-format", "xml"}, {"-retention-days", "-1"}} {
		if err := run(context.Background(), args, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("run %v: want an error", args)
		}
	}
}

func TestEnvironmentFallbacks(t *testing.T) {
	env := map[string]string{"RTM_BUS": "redis://127.0.0.1:6379/2", "RTM_ADDR": "127.0.0.1:9999", "RTM_DB": "/tmp/x.db", "RTM_MAX_TABS": "3", "RTM_SESSION_IDLE": "1h", "RTM_SYNC_FULL": "true"}
	c, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.addr != "127.0.0.1:9999" || c.db != "/tmp/x.db" || c.maxTabs != 3 || c.sessionIdle != time.Hour || !c.syncFull ||
		c.bus != "redis://127.0.0.1:6379/2" {
		t.Fatalf("env: %+v %v", c, err)
	}
	if _, err := parseConfig(nil, func(k string) string { return map[string]string{"RTM_MAX_TABS": "many"}[k] }, io.Discard); err == nil || !strings.Contains(err.Error(), "RTM_MAX_TABS") {
		t.Fatalf("a bad environment value must name its variable: %v", err)
	}
	if c, err := parseConfig([]string{"-public-url", "https://chat.example.com/"}, func(string) string { return "" }, io.Discard); err != nil || c.publicURL != "https://chat.example.com/" {
		t.Fatalf("a bare origin is a valid -public-url: %+v %v", c, err)
	}
	c, err = parseConfig([]string{"-addr", ":1"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.addr != ":1" {
		t.Fatalf("flag over env: %+v %v", c, err)
	}
}

package hub

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/internal/docstream"
)

// docWait bounds each wait for a document chunk: generous, as it only
// decides how soon a broken test fails on a busy machine.
const docWait = 20 * time.Second

// serveDoc serves a document as a handler would: a security header set
// first, a start that says whether it may retry, and a chunk per named
// event and per unnamed one whose data does not say "skip".
func (rg *rig) serveDoc(w http.ResponseWriter, r *http.Request) {
	uid, _ := strconv.ParseInt(r.Header.Get("X-User"), 10, 64)
	var replay Replay
	if rg.replay != nil {
		replay = rg.replay(uid)
	}
	w.Header().Set("Content-Security-Policy", "frame-ancestors 'self'")
	start := func(retry bool) []byte { return fmt.Appendf(nil, "<!DOCTYPE html><body data-retry=%v>", retry) }
	chunk := func(id int64, event string, data []byte) []byte {
		switch {
		case event != "":
			return fmt.Appendf(nil, "<p class=%s>%s</p>", event, data)
		case bytes.Contains(data, []byte("skip")):
			return nil
		}
		return fmt.Appendf(nil, "<p id=%d>%s</p>", id, data)
	}
	rg.hub.ServeDocument(w, r, uid, r.URL.Query().Get("session"), nil, replay, start, chunk)
}

// openDoc opens a document as user and reads it in the background.
func (rg *rig) openDoc(user int64, query string) (*http.Response, *docstream.Reader) {
	rg.t.Helper()
	req, _ := http.NewRequest("GET", rg.srv.URL+"/doc"+query, nil)
	req.Header.Set("X-User", strconv.FormatInt(user, 10))
	resp, err := rg.srv.Client().Do(req)
	if err != nil {
		rg.t.Fatal(err)
	}
	rg.t.Cleanup(func() { resp.Body.Close() })
	return resp, docstream.Read(resp.Body)
}

func TestDocumentCarriesEachEventAsAChunk(t *testing.T) {
	ticks := make(chan time.Time)
	rg := newRig(t, Options{HeartbeatTicks: ticks})
	rg.hub.Join(10, 1)
	resp, doc := rg.openDoc(1, "")
	for header, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-store",
		"Content-Security-Policy": "frame-ancestors 'self'", // set before the connection was taken over
	} {
		if got := resp.Header.Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	doc.WaitFor(t, "<!DOCTYPE html><body data-retry=true>", docWait)
	rg.waitConns(1)

	rg.hub.Publish(10, 5, []byte("two\nlines"))
	rg.hub.Publish(10, 6, []byte("skip me"))
	rg.hub.Publish(10, 7, []byte("one line"))
	text := doc.WaitFor(t, "<p id=7>one line</p>", docWait)
	if !strings.HasSuffix(text, "<body data-retry=true><p id=5>two\nlines</p><p id=7>one line</p>") {
		t.Fatalf("document so far:\n%s", text)
	}
	ticks <- time.Now()
	doc.WaitFor(t, "<p id=7>one line</p><!--hb-->", docWait)
}

// A document resumes like any stream: the replay comes first, through
// the same chunks.
func TestDocumentReplaysFirst(t *testing.T) {
	rg := newRig(t, Options{})
	rg.hub.Join(10, 1)
	rg.replay = func(int64) Replay {
		return func(_ context.Context, send func(int64, string, []byte) error) error {
			return send(3, "", []byte("missed"))
		}
	}
	_, doc := rg.openDoc(1, "")
	doc.WaitFor(t, "<p id=3>missed</p>", docWait)
	rg.waitConns(1)
	rg.hub.Publish(10, 4, []byte("live"))
	doc.WaitFor(t, "<p id=3>missed</p><p id=4>live</p>", docWait)
}

// Documents and SSE streams share the per-browser cap; a refused document
// says why and does not ask to be loaded again.
func TestDocumentCountsAgainstTheTabCap(t *testing.T) {
	rg := newRig(t, Options{MaxConnsPerSession: 1})
	rg.connect(1, "?session=laptop")
	rg.waitConns(1)
	_, doc := rg.openDoc(1, "?session=laptop")
	if !doc.Ended(docWait) {
		t.Fatal("a refused document must end")
	}
	text := doc.Text()
	if !strings.HasPrefix(text, "<!DOCTYPE html><body data-retry=false><p class="+ClosedEvent+">Live updates are off in this tab") {
		t.Fatalf("refusal:\n%s", text)
	}
	rg.openDoc(1, "?session=phone") // the cap is per browser
	rg.waitConns(2)
}

// A document that is not read is cut like any stalled stream, and others
// keep receiving.
func TestStalledDocumentIsCut(t *testing.T) {
	rg := newRig(t, Options{QueueSize: 4, WriteTimeout: 10 * time.Second}) // see TestStalledReaderIsCutAndOthersKeepGoing
	rg.hub.Join(10, 1)
	rg.hub.Join(10, 2)
	stalled, err := net.Dial("tcp", rg.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	stalled.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(stalled, "GET /doc HTTP/1.1\r\nHost: x\r\nX-User: 1\r\n\r\n")
	healthy := rg.connect(2, "")
	rg.waitConns(2)
	big := []byte(strings.Repeat("x", 32<<10))
	for id := int64(1); id <= 400; id++ {
		rg.hub.Publish(10, id, big)
		if ev := healthy.next(t); ev.IntID() != id {
			t.Fatalf("healthy reader got %s, want %d", ev.ID, id)
		}
	}
	rg.waitConns(1)
}

// serveUserDoc serves user 1's document from h, each event as "id:data;".
func serveUserDoc(t *testing.T, h *Hub) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeDocument(w, r, 1, "", nil, nil,
			func(retry bool) []byte { return fmt.Appendf(nil, "start retry=%v;", retry) },
			func(id int64, _ string, data []byte) []byte { return fmt.Appendf(nil, "%d:%s;", id, data) })
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Shutting down ends a document cleanly, after what was queued: the
// browser loads it again (its start allowed that) and resumes.
func TestCloseEndsDocuments(t *testing.T) {
	h := New(Options{})
	srv := serveUserDoc(t, h)
	h.Join(10, 1)
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc := docstream.Read(resp.Body)
	doc.WaitFor(t, "start retry=true;", docWait)
	waitFor(t, "the document's connection", func() bool { _, c := h.Stats(); return c == 1 })
	h.Publish(10, 1, []byte("last"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !doc.Ended(docWait) || doc.Text() != "start retry=true;1:last;" {
		t.Fatalf("document at shutdown: %q", doc.Text())
	}
}

// A client that takes gzip gets the document compressed, each chunk
// decodable as soon as it is sent; the primer rides along as an HTML
// comment, which shows nothing.
func TestDocumentIsCompressedChunkByChunk(t *testing.T) {
	primer := []byte(`<hx-upsert hx-target="#log-10" sort><li id="msg-1" class="msg">a message -- with dashes</li></hx-upsert>`)
	rg := newRig(t, Options{AcceptsGzip: func(*http.Request) bool { return true }, StreamPrimer: primer})
	rg.hub.Join(10, 1)
	resp, doc := rg.openDoc(1, "") // Go's client asks for gzip and decodes it as it comes
	if !resp.Uncompressed {
		t.Fatal("the document was not compressed")
	}
	doc.WaitFor(t, "<!DOCTYPE html><body data-retry=true>", docWait)
	rg.waitConns(1)
	for id := int64(1); id <= 3; id++ {
		rg.hub.Publish(10, id, fmt.Appendf(nil, "message %d", id))
		doc.WaitFor(t, fmt.Sprintf("<p id=%d>message %d</p>", id, id), docWait)
	}
	text := doc.WaitFor(t, "<p id=3>message 3</p>", docWait)
	comment := string(rg.hub.docGzip.primer)
	if !strings.HasPrefix(comment, "<!-- ") || strings.Count(comment, "-->") != 1 || !strings.HasSuffix(comment, " -->\n") {
		t.Fatalf("the primer is not one HTML comment: %q", comment)
	}
	// The start goes alone, as a stream's first event does; the primer
	// comes before the first chunk.
	want := "<!DOCTYPE html><body data-retry=true>" + comment + "<p id=1>message 1</p><p id=2>message 2</p><p id=3>message 3</p>"
	if text != want {
		t.Fatalf("document so far:\n%q\nwant\n%q", text, want)
	}
}

// The primer's comment cannot end early, whatever dashes the sample has.
func TestTheDocumentPrimerIsOneComment(t *testing.T) {
	for _, sample := range []string{"a ---> b", "x---", "---!>", "--->", "a -- b", "ends with -", "<!-- -->"} {
		c := string(newDocCodec([]byte(sample)).primer)
		inner := strings.TrimSuffix(strings.TrimPrefix(c, "<!-- "), " -->\n")
		// Both ends of a comment ("-->" and "--!>") start with "--".
		if strings.Contains(inner, "--") || len(inner)+len("<!--  -->\n") != len(c) {
			t.Errorf("sample %q made the comment %q", sample, c)
		}
	}
}

// A compressed document that ends in order ends as a whole gzip stream:
// its last block and trailer, with the text's checksum and length.
func TestACompressedDocumentEndsWhole(t *testing.T) {
	h := New(Options{AcceptsGzip: func(*http.Request) bool { return true }, StreamPrimer: []byte("<p>a primer</p>")})
	srv := serveUserDoc(t, h)
	h.Join(10, 1)
	resp, err := srv.Client().Get(srv.URL) // decodes gzip, and checks the trailer at the end
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := make(chan string, 1)
	go func() {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			b = fmt.Appendf(b, " (%v)", err)
		}
		body <- string(b)
	}()
	waitFor(t, "the document's connection", func() bool { _, c := h.Stats(); return c == 1 })
	h.Publish(10, 1, []byte("first"))
	h.Publish(10, 2, []byte("last"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	want := "start retry=true;" + string(h.docGzip.primer) + "1:first;2:last;"
	if got := <-body; got != want {
		t.Fatalf("document:\n%q\nwant\n%q", got, want)
	}
}

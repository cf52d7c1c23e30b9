package hub

import (
	"bufio"
	"context"
	"fmt"
	"github.com/rtmessenger/rtmessenger/internal/poll"
	"github.com/rtmessenger/rtmessenger/static"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// BenchmarkPublish publishes to a room of 1,000 members, 200 of them
// connected and reading: the cost to the publisher, which never waits for
// readers.
func BenchmarkPublish(b *testing.B) {
	h := New(Options{QueueSize: 4096})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uid, _ := strconv.ParseInt(r.URL.Query().Get("u"), 10, 64)
		h.Serve(w, r, uid, "", nil, nil)
	}))
	defer srv.Close()
	defer h.Close(context.Background())
	for u := range int64(1000) {
		h.Join(1, u)
	}
	for u := range 200 {
		resp, err := http.Get(srv.URL + "?u=" + strconv.Itoa(u))
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		go func() {
			br := bufio.NewReader(resp.Body)
			for {
				if _, err := br.ReadSlice('\n'); err != nil && err != bufio.ErrBufferFull {
					return
				}
			}
		}()
	}
	poll.Until(b, "200 streams to connect", func() bool { _, c := h.Stats(); return c == 200 })
	data := []byte(`<hx-upsert hx-target="#log-1" sort><li id="msg-1" class="msg a1">a rendered message</li></hx-upsert>`)
	b.ReportAllocs()
	var id int64
	for b.Loop() {
		id++
		h.Publish(1, id, data)
	}
}

// BenchmarkIdleStreamMemory reports what an idle stream costs the server in
// heap and stacks: 1,000 members each on their own stream, the same with
// compressed streams (which must cost nothing more while idle), and 1,000
// read-only guests of one room.
func BenchmarkIdleStreamMemory(b *testing.B) {
	for _, kind := range []string{"member", "member-gzip", "guest"} {
		b.Run(kind, func(b *testing.B) {
			for b.Loop() {
				b.ReportMetric(idleStreamBytes(b, kind, 1000), "bytes/stream")
			}
		})
	}
}

func idleStreamBytes(b *testing.B, kind string, n int) float64 {
	h := New(Options{AcceptsGzip: static.AcceptsGzip})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if kind == "guest" {
			h.ServeGuest(w, r, 1, nil, nil)
			return
		}
		uid, _ := strconv.ParseInt(r.URL.Query().Get("u"), 10, 64)
		h.Join(1, uid)
		h.Serve(w, r, uid, "s", nil, nil)
	}))
	defer srv.Close()
	defer h.Close(context.Background())
	before := inUse()
	// Raw connections that send a request and never read: the client side
	// holds a socket each and no goroutine, so the growth is the server's.
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for u := range n {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		enc := ""
		if kind == "member-gzip" {
			enc = "Accept-Encoding: gzip\r\n"
		}
		fmt.Fprintf(c, "GET /?u=%d HTTP/1.1\r\nHost: x\r\n%s\r\n", u+1, enc)
		conns = append(conns, c)
	}
	poll.Within(b, time.Minute, fmt.Sprintf("%d streams to connect", n), func() bool { _, c := h.Stats(); return c == n })
	return float64(inUse()-before) / float64(n)
}

// inUse is the heap and stack memory in use after a collection.
func inUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

func benchFragment(id int) []byte {
	return fmt.Appendf(nil, "id: %d\ndata: <hx-upsert hx-target=\"#log-7\" sort><li id=\"msg-%d\" class=\"msg a3\" data-author=\"3\">"+
		"<div class=\"meta\"><strong class=\"author\">someone</strong> <time datetime=\"2026-11-30T11:00:00Z\">11:00 UTC</time></div>"+
		"<div class=\"body\" dir=\"auto\">message number %d</div></li></hx-upsert>\n\n", id, id, id)
}

// BenchmarkCompressEvent is what compressing an event costs once for all
// streams: its match search against a primer of the same markup and the
// room's previous message.
func BenchmarkCompressEvent(b *testing.B) {
	c := newStreamCodec(benchFragment(1))
	prev := benchFragment(2)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n++
		text := benchFragment(n)
		matchEvent(c.primer, prev, text)
		b.SetBytes(int64(len(text)))
	}
}

// BenchmarkStreamEvent is what each compressed stream pays per event: the
// event's matches written down with its own distances. The bytes it
// reports are the compressed ones.
func BenchmarkStreamEvent(b *testing.B) {
	c := newStreamCodec(benchFragment(1))
	const kinds = 8 // events, each searched once: then the loop is the per-stream part
	var texts [][]byte
	for i := range kinds {
		texts = append(texts, benchFragment(1000+i))
	}
	s := unitStream{codec: c}
	var out []byte
	for _, t := range texts { // every pair of neighbours searched
		out = s.encode(out[:0], t)
	}
	b.ReportAllocs()
	searched := c.made.Load()
	var n, size int
	for b.Loop() {
		out = s.encode(out[:0], texts[n%kinds])
		n++
		size += len(out)
	}
	b.ReportMetric(float64(size)/float64(n), "B/event")
	b.ReportMetric(float64(c.made.Load()-searched)/float64(n), "searches/event")
}

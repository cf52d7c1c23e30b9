package hub

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
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
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(time.Millisecond) {
		_, c := h.Stats()
		if c == 200 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of 200 streams connected after 20s", c)
		}
	}
	data := []byte(`<hx-upsert hx-target="#log-1" sort><li id="msg-1" class="msg a1">a rendered message</li></hx-upsert>`)
	b.ReportAllocs()
	var id int64
	for b.Loop() {
		id++
		h.Publish(1, id, data)
	}
}

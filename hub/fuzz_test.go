package hub

import (
	"bytes"
	"context"
	"github.com/rtmessenger/rtmessenger/internal/poll"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/internal/attack"
	"github.com/rtmessenger/rtmessenger/internal/sseclient"
)

// FuzzSSEFraming sends arbitrary data both ways an event reaches an SSE
// stream (replayed to a connecting client, and live) and parses the stream
// as the specification says a browser must: exactly the event it was
// given, with its id and its data, line breaks normalised to \n.
func FuzzSSEFraming(f *testing.F) {
	for _, s := range append(append([]string{"x", "a\nb", "\r\r\n", "id: 5", ":comment", "data: x\n\nevent: y"}, attack.SSE...), attack.XSS...) {
		f.Add([]byte(s))
	}
	h := New(Options{Heartbeat: time.Hour, MaxConnsPerSession: 1 << 20})
	var replayed atomic.Pointer[[]byte] // what the next connection's replay sends
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data := replayed.Load()
		h.Serve(w, r, 1, "", nil, func(_ context.Context, send func(int64, string, []byte) error) error {
			if data == nil {
				return nil
			}
			return send(1, "", *data)
		})
	}))
	defer func() {
		h.Close(f.Context())
		srv.Close()
	}()
	h.Join(1, 1)
	live := connect(f, srv.URL)
	poll.Until(f, "the stream to connect", func() bool { _, conns := h.Stats(); return conns == 1 })
	var id int64 = 1
	f.Fuzz(func(t *testing.T, data []byte) {
		want := string(bytes.TrimRight(bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n")), "\n"))
		if want == "" || !isText(want) {
			return // the hub never publishes empty data; text is validated UTF-8 upstream
		}
		replayed.Store(&data)
		ev, err := connect(t, srv.URL).Next()
		if err != nil || ev.Data != want || ev.ID != "1" || ev.Name != "" {
			t.Fatalf("replayed: %+v, %v; want data %q id 1", ev, err, want)
		}
		id++
		h.Publish(1, id, data)
		ev, err = live.Next()
		if err != nil || ev.Data != want || ev.ID != itoa(id) || ev.Name != "" {
			t.Fatalf("live: %+v, %v; want data %q id %d", ev, err, want, id)
		}
	})
}

// connect opens a stream that ends with the test.
func connect(tb testing.TB, url string) *sseclient.Reader {
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { resp.Body.Close() })
	return sseclient.NewReader(resp.Body)
}

// isText excludes NUL, which SSE parsers may treat specially in ids.
func isText(s string) bool { return !strings.ContainsRune(s, 0) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

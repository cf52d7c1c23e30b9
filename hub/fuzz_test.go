package hub

import (
	"bytes"
	"github.com/rtmessenger/rtmessenger/internal/poll"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/internal/attack"
	"github.com/rtmessenger/rtmessenger/internal/sseclient"
)

// FuzzSSEFraming sends arbitrary data both ways the hub frames events (a
// replay's own framing and r3labs' live framing) and parses the stream as
// the specification says a browser must: exactly one event, with the id it
// was given and the data it was given, line breaks normalised to \n.
func FuzzSSEFraming(f *testing.F) {
	for _, s := range append(append([]string{"x", "a\nb", "\r\r\n", "id: 5", ":comment", "data: x\n\nevent: y"}, attack.SSE...), attack.XSS...) {
		f.Add([]byte(s))
	}
	h := New(Options{Heartbeat: time.Hour})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Serve(w, r, 1, "", nil, nil) }))
	defer func() {
		h.Close(f.Context())
		srv.Close()
	}()
	h.Join(1, 1)
	resp, err := http.Get(srv.URL)
	if err != nil {
		f.Fatal(err)
	}
	defer resp.Body.Close()
	live := sseclient.NewReader(resp.Body)
	poll.Until(f, "the stream to connect", func() bool { _, conns := h.Stats(); return conns == 1 })
	var id int64
	f.Fuzz(func(t *testing.T, data []byte) {
		want := string(bytes.TrimRight(bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n")), "\n"))
		if want == "" || !isText(want) {
			return // the hub never publishes empty data; text is validated UTF-8 upstream
		}
		id++
		replayed := sseclient.NewReader(bytes.NewReader(appendEvent(nil, id, "", data)))
		ev, err := replayed.Next()
		if err != nil || ev.Data != want || ev.ID != itoa(id) || ev.Name != "" {
			t.Fatalf("replay framing: %+v, %v; want data %q id %d", ev, err, want, id)
		}
		if _, err := replayed.Next(); err == nil {
			t.Fatal("replay framing produced a second event")
		}
		h.Publish(1, id, data)
		ev, err = live.Next()
		if err != nil || ev.Data != want || ev.ID != itoa(id) || ev.Name != "" {
			t.Fatalf("live framing: %+v, %v; want data %q id %d", ev, err, want, id)
		}
	})
}

// isText excludes NUL, which SSE parsers may treat specially in ids.
func isText(s string) bool { return !strings.ContainsRune(s, 0) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

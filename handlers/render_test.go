package handlers

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/andybalholm/brotli"
)

// Answers (at most smallGzipMax) and pages are compressed by pools of
// writers (gzip, and brotli for pages to clients that take it); each
// writer, used again, must still make a whole stream that a browser's
// decoder reads back exactly.
func TestCompressedBodiesReadBackWhole(t *testing.T) {
	answer, err := os.ReadFile("testdata/post-answer.html")
	if err != nil {
		t.Fatal(err)
	}
	page := bytes.Repeat(answer, 20) // past smallGzipMax
	if len(answer) > smallGzipMax || len(page) <= smallGzipMax {
		t.Fatalf("sizes %d and %d do not take both paths", len(answer), len(page))
	}
	unpack := map[string]func(io.Reader) (io.Reader, error){
		"gzip": func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
		"br":   func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil },
	}
	cases := []struct {
		accept string
		body   []byte
		want   string
	}{
		{"gzip, deflate, br", answer, "gzip"},
		{"gzip, deflate, br", page, "br"},
		{"gzip, deflate", page, "gzip"},
	}
	for round := range 3 {
		for _, c := range cases {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Accept-Encoding", c.accept)
			w := httptest.NewRecorder()
			writeHTML(w, r, http.StatusOK, c.body)
			if got := w.Header().Get("Content-Encoding"); got != c.want {
				t.Fatalf("round %d, %d bytes, %q: Content-Encoding %q, want %q", round, len(c.body), c.accept, got, c.want)
			}
			zr, err := unpack[c.want](w.Body)
			if err != nil {
				t.Fatal(err)
			}
			back, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(back, c.body) {
				t.Fatalf("round %d, %d bytes: read back %d bytes (%v)", round, len(c.body), len(back), err)
			}
			if w.Body.Len() > len(c.body)/2 {
				t.Errorf("round %d: %d bytes compressed to %d", round, len(c.body), w.Body.Len())
			}
		}
	}
}

package handlers

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

// Answers (at most smallGzipMax) and pages are compressed by two pools of
// writers; each writer, used again, must still make a whole stream that
// a browser's decoder (here the standard library's) reads back exactly.
func TestCompressedBodiesReadBackWhole(t *testing.T) {
	answer, err := os.ReadFile("testdata/post-answer.html")
	if err != nil {
		t.Fatal(err)
	}
	page := bytes.Repeat(answer, 20) // past smallGzipMax
	if len(answer) > smallGzipMax || len(page) <= smallGzipMax {
		t.Fatalf("sizes %d and %d do not take both paths", len(answer), len(page))
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	for round := range 3 {
		for _, body := range [][]byte{answer, page} {
			w := httptest.NewRecorder()
			writeHTML(w, r, http.StatusOK, body)
			if got := w.Header().Get("Content-Encoding"); got != "gzip" {
				t.Fatalf("round %d, %d bytes: Content-Encoding %q", round, len(body), got)
			}
			zr, err := gzip.NewReader(w.Body)
			if err != nil {
				t.Fatal(err)
			}
			back, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(back, body) {
				t.Fatalf("round %d, %d bytes: read back %d bytes (%v)", round, len(body), len(back), err)
			}
			if w.Body.Len() > len(body)/2 {
				t.Errorf("round %d: %d bytes compressed to %d", round, len(body), w.Body.Len())
			}
		}
	}
}

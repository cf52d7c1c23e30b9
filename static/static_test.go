package static

import (
	"bytes"
	"compress/gzip"
	"github.com/andybalholm/brotli"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, path string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func TestVersionedURLsAreCachedForever(t *testing.T) {
	url := URL("app.css")
	if !strings.HasPrefix(url, Prefix) || !strings.HasSuffix(url, "/app.css") {
		t.Fatalf("URL = %q", url)
	}
	res := get(t, url, nil)
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") || !strings.Contains(string(body), ".visually-hidden") {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, res.Header)
	}
	stale := get(t, strings.Replace(url, "/static/", "/static/0000", 1), nil)
	if stale.StatusCode != 200 || strings.Contains(stale.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("an old hash must still work, briefly cached: %d %v", stale.StatusCode, stale.Header)
	}
	etag := res.Header.Get("ETag")
	if res := get(t, url, http.Header{"If-None-Match": {etag}}); res.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional GET: %d", res.StatusCode)
	}
}

func TestCompressionWhenAccepted(t *testing.T) {
	url := URL("vendor/htmx/htmx.min.js")
	for _, tc := range []struct {
		accept, encoding string
		reader           func(io.Reader) (io.Reader, error)
	}{
		{"gzip, deflate, br, zstd", "br", func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil }},
		{"gzip", "gzip", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
		{"br;q=0, gzip", "gzip", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
		{"gzip;q=0", "", func(r io.Reader) (io.Reader, error) { return r, nil }},
	} {
		res := get(t, url, http.Header{"Accept-Encoding": {tc.accept}})
		if res.Header.Get("Content-Encoding") != tc.encoding || res.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("Accept-Encoding %q: headers %v", tc.accept, res.Header)
		}
		r, err := tc.reader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if js, _ := io.ReadAll(r); !strings.Contains(string(js), "4.0.1") {
			t.Fatalf("Accept-Encoding %q: the body is not htmx 4.0.1", tc.accept)
		}
	}
}

// Our own scripts and styles are served minified: smaller, no comments,
// the same code.
func TestOwnFilesAreMinified(t *testing.T) {
	for _, name := range []string{"app.js", "live.js", "stream-sse.js", "stream-ws.js", "signals.js", "app.css"} {
		source, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		served := assets[name].body
		if len(served) > len(source)*19/20 || strings.Contains(string(served), "\n  //") {
			t.Errorf("%s: %d bytes served of %d, not minified", name, len(served), len(source))
		}
	}
	if !strings.Contains(string(assets["live.js"].body), "rtm-live-") {
		t.Error("live.js lost its code")
	}
}

func TestUnknownFiles(t *testing.T) {
	for _, p := range []string{"/static/x/nope.js", "/static/app.css", "/static/abc/vendor/htmx/LICENSE"} {
		if res := get(t, p, nil); res.StatusCode != 404 {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("URL of a missing file must panic")
		}
	}()
	URL("missing.css")
}

func TestEmbedFilesStaySmall(t *testing.T) {
	// embed.js runs on other sites' pages, unminified: the issue allows it
	// 3 KB gzipped. The widget's own script and stylesheet count toward its
	// first load (20 KB with 50 messages): they get a ceiling too.
	limits := map[string]int{"embed.js": 3 * 1024, "embed-frame.js": 4 * 1024, "embed.css": 5 * 1024 / 2}
	for name, limit := range limits {
		body, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		t.Logf("%s: %d bytes, %d gzipped", name, len(body), buf.Len())
		if buf.Len() >= limit {
			t.Errorf("%s is %d bytes gzipped; it must stay under %d", name, buf.Len(), limit)
		}
	}
}

func TestEmbedScriptHasAStableURL(t *testing.T) {
	res := get(t, "/static/embed.js", http.Header{"Accept-Encoding": {"gzip"}})
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "public, max-age=300" ||
		!strings.Contains(res.Header.Get("Content-Type"), "javascript") || res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("GET /static/embed.js: %d %v", res.StatusCode, res.Header)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(zr)
	if !strings.Contains(string(js), "RTMessenger") {
		t.Fatal("/static/embed.js is not the embed script")
	}
	if res := get(t, "/static/embed.js", http.Header{"If-None-Match": {res.Header.Get("ETag")}}); res.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional GET: %d", res.StatusCode)
	}
	if res := get(t, URL("embed.js"), nil); !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("the hashed URL is cached forever: %v", res.Header)
	}
	// Only files meant for other sites have an unhashed URL.
	for _, p := range []string{"/static/embed-frame.js", "/static/embed.css", "/static/embed.js/x"} {
		if res := get(t, p, nil); res.StatusCode != 404 {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
}

var eventHandler = regexp.MustCompile(`\son[a-z]+\s*=`)

// Static files are served without a page's security policy (handlers'
// securityHeaders): an SVG among them must hold nothing that runs.
func TestSVGsHoldNoScript(t *testing.T) {
	for name, a := range assets {
		if !strings.HasSuffix(name, ".svg") {
			continue
		}
		body := strings.ToLower(string(a.body))
		if strings.Contains(body, "<script") || strings.Contains(body, "javascript:") || eventHandler.MatchString(body) {
			t.Errorf("%s may run script", name)
		}
	}
}

// Package static embeds the front-end files: vendored htmx, the stylesheet,
// the small page scripts and the embeddable widget's files. Each file is
// served under a URL that holds a hash of its content, so browsers may cache
// it for a year and still never run stale code after a deploy.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

//go:embed app.css app.js live.js stream-sse.js stream-ws.js signals.js favicon.svg embed.js embed-frame.js embed.css vendor
var files embed.FS

// Prefix is where the files are served.
const Prefix = "/static/"

type asset struct {
	body        []byte // as served: our own scripts and styles minified
	hash, ctype string
	// Compressed copies, made on first use (brotli at its best is slow)
	// and nil when compression does not pay.
	packed sync.Once
	gz, br []byte
}

var assets = load()

func load() map[string]*asset {
	m := make(map[string]*asset)
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Base(name) == "LICENSE" {
			return err
		}
		body, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		ctype := mime.TypeByExtension(path.Ext(name))
		if body, err = minified(name, ctype, body); err != nil {
			return err
		}
		sum := sha256.Sum256(body) // of what is served: a new minifier changes the URL too
		m[name] = &asset{body: body, hash: hex.EncodeToString(sum[:6]), ctype: ctype}
		return nil
	})
	if err != nil {
		panic("static: " + err.Error()) // the files are compiled in; this cannot fail at run time
	}
	for name, parts := range bundles {
		var body []byte
		for _, part := range parts {
			body = append(append(body, m[part].body...), "\n;\n"...)
		}
		sum := sha256.Sum256(body)
		m[name] = &asset{body: body, hash: hex.EncodeToString(sum[:6]), ctype: "text/javascript; charset=utf-8"}
	}
	return m
}

// bundles are the scripts of each kind of page, served as one file each:
// one request instead of up to six (a request's headers cost about as
// much as a small script), compressed together. Their order is the order
// the page ran them in as separate scripts: htmx before its extensions,
// app.js before live.js, whose first reports must find it listening, and
// live.js before its transport's script (stream-sse.js, stream-ws.js),
// which attaches to it.
var bundles = map[string][]string{
	"public.js":   {"vendor/htmx/htmx.min.js", "app.js"},
	"live-sse.js": {"vendor/htmx/htmx.min.js", "vendor/htmx/hx-sse.min.js", "vendor/htmx/hx-upsert.min.js", "app.js", "live.js", "stream-sse.js", "signals.js"},
	"live-ws.js":  {"vendor/htmx/htmx.min.js", "vendor/htmx/hx-ws.min.js", "vendor/htmx/hx-upsert.min.js", "app.js", "live.js", "stream-ws.js", "signals.js"},
}

// compressed returns a's gzip and brotli copies, making them once.
func (a *asset) compressed() (gz, br []byte) {
	a.packed.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(a.body)
		zw.Close()
		if buf.Len() < len(a.body)*9/10 {
			a.gz = buf.Bytes()
		}
		var bbuf bytes.Buffer
		bw := brotli.NewWriterLevel(&bbuf, brotli.BestCompression)
		bw.Write(a.body)
		bw.Close()
		if bbuf.Len() < len(a.body)*9/10 {
			a.br = bbuf.Bytes()
		}
	})
	return a.gz, a.br
}

// URL returns the versioned URL of an embedded file, e.g. "app.css" →
// "/static/3f2a…/app.css". It panics on an unknown name: that is a bug
// caught by the first test that renders a page.
func URL(name string) string {
	a, ok := assets[name]
	if !ok {
		panic("static: no file " + name)
	}
	return Prefix + a.hash + "/" + name
}

// unhashed are the files other sites' pages load by a fixed URL, such as
// the embed snippet's /static/embed.js: they cannot know the hash.
var unhashed = map[string]bool{"embed.js": true}

// Handler serves the files below Prefix. A request naming the current hash
// is cacheable forever; any other hash still gets the current file, briefly
// cacheable, so a page from before a deploy keeps working. The files in
// unhashed are also served without a hash, briefly cacheable, so a deploy
// reaches the sites that embed them within minutes.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hash, name, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, Prefix), "/")
		if !ok && unhashed[hash] {
			hash, name, ok = "", hash, true
		}
		a := assets[name]
		if !ok || a == nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Vary", "Accept-Encoding")
		h.Set("ETag", `"`+a.hash+`"`)
		if unhashed[name] {
			// Other sites load it, some under a Cross-Origin-Embedder-Policy.
			h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		}
		if hash == a.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=300")
		}
		if r.Header.Get("If-None-Match") == `"`+a.hash+`"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body := a.body
		gz, br := a.compressed()
		switch {
		case br != nil && accepts(r, "br"):
			h.Set("Content-Encoding", "br")
			body = br
		case gz != nil && AcceptsGzip(r):
			h.Set("Content-Encoding", "gzip")
			body = gz
		}
		h.Set("Content-Length", strconv.Itoa(len(body))) // no chunked framing
		if r.Method == http.MethodHead {
			return
		}
		w.Write(body)
	})
}

// AcceptsGzip reports whether the client takes gzip-encoded responses.
func AcceptsGzip(r *http.Request) bool { return accepts(r, "gzip") }

// AcceptsBrotli reports whether the client takes brotli-encoded responses
// (browsers offer it over HTTPS and to localhost).
func AcceptsBrotli(r *http.Request) bool { return accepts(r, "br") }

// accepts reports whether the client takes responses in encoding.
func accepts(r *http.Request, encoding string) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), encoding) && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

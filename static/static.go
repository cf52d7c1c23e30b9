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
	"strings"
)

//go:embed app.css app.js live.js signals.js favicon.svg embed.js embed-frame.js embed.css vendor
var files embed.FS

// Prefix is where the files are served.
const Prefix = "/static/"

type asset struct {
	body, gz    []byte // gz is nil when compression does not pay
	hash, ctype string
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
		sum := sha256.Sum256(body)
		a := &asset{body: body, hash: hex.EncodeToString(sum[:6]), ctype: mime.TypeByExtension(path.Ext(name))}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if buf.Len() < len(body)*9/10 {
			a.gz = buf.Bytes()
		}
		m[name] = a
		return nil
	})
	if err != nil {
		panic("static: " + err.Error()) // the files are compiled in; this cannot fail at run time
	}
	return m
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
		if a.gz != nil && AcceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body = a.gz
		}
		if r.Method == http.MethodHead {
			return
		}
		w.Write(body)
	})
}

// AcceptsGzip reports whether the client takes gzip-encoded responses.
func AcceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

package static

import (
	"fmt"
	"strings"

	"github.com/tdewolff/minify/v2"
	"github.com/tdewolff/minify/v2/css"
	"github.com/tdewolff/minify/v2/js"
)

// Our scripts and styles are kept readable (commented) in the repository
// and minified once, as the server starts: no build step, and a third
// less on the wire after compression. Vendored files come minified.
var minifier = func() *minify.M {
	m := minify.New()
	m.AddFunc("text/css", css.Minify)
	m.AddFunc("text/javascript", js.Minify)
	return m
}()

// minified returns body minified when it is one of our own scripts or
// stylesheets, else as it is.
func minified(name, ctype string, body []byte) ([]byte, error) {
	if strings.HasPrefix(name, "vendor/") {
		return body, nil
	}
	media, _, _ := strings.Cut(ctype, ";")
	switch media {
	case "text/css", "text/javascript":
	default:
		return body, nil
	}
	out, err := minifier.Bytes(media, body)
	if err != nil {
		return nil, fmt.Errorf("minify %s: %w", name, err)
	}
	return out, nil
}

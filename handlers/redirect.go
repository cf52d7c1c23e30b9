package handlers

import (
	"net/url"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rtmessenger/rtmessenger/chat"
)

// maxRedirectLen bounds a redirect target: real ones are short paths.
const maxRedirectLen = 2048

var errNotLocal = chat.FieldErrorf("next", chat.Invalid,
	"The page to go back to must be an address on this site, such as /rooms.")

// localTarget returns s if it is safe to redirect to: a path on this site,
// optionally with a query. Every redirect to a target the request names
// goes through it. Browsers forgive a lot in a Location (they drop tabs and
// newlines, read \ as /, and take //x as another host) and a proxy may
// decode escapes first, so anything that could read as another origin, in
// plain or percent-encoded form, is refused.
func localTarget(s string) (string, error) {
	if len(s) > maxRedirectLen || !printableASCII(s) {
		return "", errNotLocal
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", errNotLocal
	}
	p, _, _ := strings.Cut(s, "?")
	p, _, _ = strings.Cut(p, "#")
	// Decoding twice more catches a double encoding (%252F) for proxies that
	// decode more than once; a decode that fails met a literal %.
	for range 3 {
		if !cleanPath(p) {
			return "", errNotLocal
		}
		d, err := url.PathUnescape(p)
		if err != nil || d == p {
			break
		}
		p = d
	}
	return s, nil
}

// printableASCII reports whether s is all visible ASCII but the backslash:
// no control characters, no whitespace.
func printableASCII(s string) bool {
	for i := range len(s) {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// cleanPath reports whether p is an absolute path that no reader can take
// for anything else: one leading slash, no empty or dot segments (which
// resolve to //), no control, space or backslash even after decoding.
func cleanPath(p string) bool {
	if !strings.HasPrefix(p, "/") || !utf8.ValidString(p) {
		return false
	}
	if c := path.Clean(p); c != p && (c == "/" || c+"/" != p) {
		return false
	}
	for _, r := range p {
		if r <= ' ' || r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

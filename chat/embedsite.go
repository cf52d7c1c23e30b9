package chat

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Site is a web site registered to embed chat rooms in its pages.
type Site struct {
	ID     int64
	Origin string // scheme://host[:port], as browsers send it
	// AllPublic lets the site embed every public room; otherwise Rooms
	// lists the rooms it may embed.
	AllPublic bool
	Rooms     []int64
	// Guests lets visitors without a token read (never post) the site's
	// rooms live.
	Guests   bool
	Theme    Theme
	Disabled bool
	Created  time.Time
	// SecretRotated is when the signing secret was last made.
	SecretRotated time.Time
}

// Label is how the site is named beside its users' messages: its host.
func (s Site) Label() string { return SiteLabel(s.Origin) }

// SiteLabel is the host (and port) of origin.
func SiteLabel(origin string) string {
	_, host, _ := strings.Cut(origin, "://")
	return host
}

// Allows reports whether the site may embed room (whose kind is given).
func (s Site) Allows(room int64, kind RoomKind) bool {
	if s.Disabled || kind != KindRoom {
		return false
	}
	if s.AllPublic {
		return true
	}
	for _, r := range s.Rooms {
		if r == room {
			return true
		}
	}
	return false
}

// Theme is a widget's look: CSS values an admin sets per site and a host
// page may override. Empty means the widget's default.
type Theme struct {
	Accent  string // #rgb or #rrggbb
	Bg      string // #rgb or #rrggbb
	Font    string // small, medium, large
	Density string // compact, cozy, roomy
	Scheme  string // auto, light, dark
}

var hexColor = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}){1,2}$`)

var themeChoices = map[string][]string{
	"font":    {"small", "medium", "large"},
	"density": {"compact", "cozy", "roomy"},
	"scheme":  {"auto", "light", "dark"},
}

// CleanTheme checks every value of t (empty ones stay empty).
func CleanTheme(t Theme) (Theme, error) {
	for field, v := range map[string]string{"accent": t.Accent, "bg": t.Bg} {
		if v != "" && !hexColor.MatchString(v) {
			return t, FieldErrorf(field, Invalid, "Colours are written #rgb or #rrggbb.")
		}
	}
	for field, v := range map[string]string{"font": t.Font, "density": t.Density, "scheme": t.Scheme} {
		if v != "" && !oneOf(v, themeChoices[field]) {
			return t, FieldErrorf(field, Invalid, "The %s must be one of %s.", field, strings.Join(themeChoices[field], ", "))
		}
	}
	t.Accent, t.Bg = strings.ToLower(t.Accent), strings.ToLower(t.Bg)
	return t, nil
}

// Over returns t with the valid, non-empty values of o in place of its own:
// a host page's picks over the site's settings. Invalid picks are ignored.
func (t Theme) Over(o Theme) Theme {
	pick := func(cur, v string, ok bool) string {
		if v != "" && ok {
			return v
		}
		return cur
	}
	t.Accent = pick(t.Accent, strings.ToLower(o.Accent), hexColor.MatchString(o.Accent))
	t.Bg = pick(t.Bg, strings.ToLower(o.Bg), hexColor.MatchString(o.Bg))
	t.Font = pick(t.Font, o.Font, oneOf(o.Font, themeChoices["font"]))
	t.Density = pick(t.Density, o.Density, oneOf(o.Density, themeChoices["density"]))
	t.Scheme = pick(t.Scheme, o.Scheme, oneOf(o.Scheme, themeChoices["scheme"]))
	return t
}

func oneOf(v string, choices []string) bool {
	for _, c := range choices {
		if v == c {
			return true
		}
	}
	return false
}

// CleanOrigin checks an origin as a browser sends it: http or https, a
// host, an optional port, nothing else. Browsers compare origins exactly,
// so it is lower-cased and kept without a trailing slash.
func CleanOrigin(s string) (string, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "/")
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(s, " \t\\'\";*") {
		return "", FieldErrorf("origin", Invalid, "An origin is written like https://www.example.com (with a port if it has one), nothing after the host.")
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// NewSiteSecret makes a signing secret: 32 random bytes, base64url.
func NewSiteSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

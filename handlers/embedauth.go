package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/sessiondata"
)

// EmbedStore is the storage of embedding sites and their users.
type EmbedStore interface {
	Site(ctx context.Context, id int64) (chat.Site, string, error)
	Sites(ctx context.Context) ([]chat.Site, error)
	CreateSite(ctx context.Context, by chat.User, site chat.Site) (chat.Site, string, error)
	UpdateSite(ctx context.Context, by chat.User, site chat.Site) error
	RotateSiteSecret(ctx context.Context, by chat.User, id int64) (string, error)
	SetSiteDisabled(ctx context.Context, by chat.User, id int64, disabled bool) error
	EmbedOrigins(ctx context.Context, room int64) ([]string, error)
	EmbedSignIn(ctx context.Context, site chat.Site, c chat.EmbedClaims, room int64) (chat.User, error)
	RoomMessagesAfter(ctx context.Context, room, after int64, limit int) ([]chat.Message, error)
}

// An embed session is an ordinary session (same table, same checks: it
// ends, expires and is re-checked by streams like any other) that also
// names its site. It travels in a Partitioned cookie where the browser
// keeps one, and in every URL and form of the widget otherwise.
const (
	sessionSiteKey  = "site"
	embedCookie     = "rtm_embed"
	embedSessionArg = "es"
)

// embedLifetime is how long a widget stays signed in without a new token.
const embedLifetime = 12 * time.Hour

// startEmbedSession makes the session a spent token signs u in to.
func (h *Handler) startEmbedSession(u chat.User, site int64) (string, error) {
	values := sessiondata.SignedIn(u.ID, h.now())
	values[sessionSiteKey] = site
	token, data, expiry, err := sessiondata.Mint(values, h.now(), embedLifetime)
	if err != nil {
		return "", err
	}
	return token, h.sessionStore.Commit(token, data, expiry)
}

// embedCredential is the embed session token a request carries: in the
// form or query, a header, or the cookie.
func embedCredential(r *http.Request) string {
	if v := r.FormValue(embedSessionArg); v != "" {
		return v
	}
	if v := r.Header.Get("X-Embed-Session"); v != "" {
		return v
	}
	if c, err := r.Cookie(embedCookie); err == nil {
		return c.Value
	}
	return ""
}

// embedSession is the site user an embed session signs in, and their
// site, if the session is live.
func (h *Handler) embedSession(ctx context.Context, token string) (chat.User, int64, bool) {
	if token == "" {
		return chat.User{}, 0, false
	}
	data, found, err := h.sessionStore.Find(token)
	if err != nil || !found {
		return chat.User{}, 0, false
	}
	_, values, err := sessiondata.Codec{}.Decode(data)
	if err != nil {
		return chat.User{}, 0, false
	}
	id, _ := values[sessionUserKey].(int64)
	seen, _ := values[sessionSeenKey].(int64)
	site, _ := values[sessionSiteKey].(int64)
	if id == 0 || site == 0 {
		return chat.User{}, 0, false
	}
	u, live, err := h.sessionUser(ctx, id, seen)
	return u, site, err == nil && live && u.Embedded()
}

// embedUser is embedSession for a session that must be of site.
func (h *Handler) embedUser(ctx context.Context, token string, site int64) (chat.User, bool) {
	u, s, ok := h.embedSession(ctx, token)
	return u, ok && s == site
}

// setEmbedCookie offers the browser the session as a Partitioned cookie,
// kept (if at all) for this widget on this host site only.
func (h *Handler) setEmbedCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: embedCookie, Value: token, Path: "/embed/", MaxAge: int(embedLifetime / time.Second),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode, Partitioned: true,
	})
}

// embedURL is the widget's address for room with the site, the session (if
// any) and the host's theme picks.
func embedURL(room, site int64, session string, picks url.Values) string {
	q := url.Values{"site": {strconv.FormatInt(site, 10)}}
	if session != "" {
		q.Set(embedSessionArg, session)
	}
	for _, k := range themeKeys {
		if v := picks.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	return "/embed/rooms/" + strconv.FormatInt(room, 10) + "?" + q.Encode()
}

var themeKeys = []string{"accent", "bg", "font", "density", "scheme"}

// themePicks reads a host page's theme choices from q; invalid ones are
// dropped by chat.Theme.Over.
func themePicks(q url.Values) chat.Theme {
	return chat.Theme{Accent: q.Get("accent"), Bg: q.Get("bg"), Font: q.Get("font"), Density: q.Get("density"), Scheme: q.Get("scheme")}
}

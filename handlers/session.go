package handlers

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/sessiondata"
)

// SignInStore is what sign-ins need beyond the sessions themselves: when
// a user was last seen, and ending every session of a user or site.
type SignInStore interface {
	TouchLastSeen(ctx context.Context, user int64, at time.Time) error
	DeleteSessionsOf(ctx context.Context, owns func(data []byte) bool) (int, error)
}

const (
	sessionUserKey = sessiondata.UserKey
	// sessionSeenKey is refreshed at most once a minute, so an active user
	// costs one session write a minute, not one per request.
	sessionSeenKey  = sessiondata.SeenKey
	seenGranularity = 60
)

type userKey struct{}

// loadUser puts the signed-in user, if any, in the request context. A
// session unused for longer than the idle timeout, or whose account was
// deactivated, is ended here, and so are the streams it opened.
func (h *Handler) loadUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := h.sessions.GetInt64(ctx, sessionUserKey)
		// A widget's session signs in nowhere but its widget, even if its
		// token is sent as the app's cookie.
		if id == 0 || h.sessions.GetInt64(ctx, sessionSiteKey) != 0 {
			next.ServeHTTP(w, r)
			return
		}
		seen := h.sessions.GetInt64(ctx, sessionSeenKey)
		u, live, err := h.sessionUser(ctx, id, seen)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		switch {
		case live:
			h.onSignedIn(r)
			if h.now().Unix()-seen >= seenGranularity {
				h.sessions.Put(ctx, sessionSeenKey, h.now().Unix())
				h.touchLastSeen(ctx, u.ID)
			}
			noteUser(r, u.ID)
			r = r.WithContext(context.WithValue(ctx, userKey{}, u))
		case u.ID == 0: // account gone: the session means nothing now
			h.sessions.Remove(ctx, sessionUserKey)
		default:
			token := h.sessions.Token(ctx)
			if err := h.sessions.Destroy(ctx); err != nil {
				h.fail(w, r, err)
				return
			}
			h.streams.EndSession(id, token)
		}
		next.ServeHTTP(w, r)
	})
}

// sessionUser decides whether a session of user id, last used at seen
// (Unix seconds), still signs them in. A session that does not returns the
// user's zero value if the account is gone.
func (h *Handler) sessionUser(ctx context.Context, id, seen int64) (u chat.User, live bool, err error) {
	if h.now().Unix()-seen > int64(h.idle/time.Second) {
		return chat.User{ID: id}, false, nil
	}
	u, err = h.store.UserByID(ctx, id)
	switch {
	case chat.CodeOf(err) == chat.NotFound:
		return chat.User{}, false, nil
	case err != nil:
		return u, false, err
	}
	return u, !u.Deactivated, nil
}

// sessionAlive returns the check a stream makes at every heartbeat (and a
// socket before each post): does the session it was opened with, token,
// still sign in user? A session found idle is ended here. A database
// failure keeps the stream: an outage is no reason to sign people out.
func (h *Handler) sessionAlive(token string, user int64) func() bool {
	return func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		data, found, err := h.sessionStore.Find(token)
		if err != nil {
			return true
		}
		if !found {
			return false
		}
		_, values, err := sessiondata.Codec{}.Decode(data)
		if err != nil {
			return false
		}
		if uid, _ := values[sessionUserKey].(int64); uid != user {
			return false
		}
		seen, _ := values[sessionSeenKey].(int64)
		u, live, err := h.sessionUser(ctx, user, seen)
		if err != nil {
			return true
		}
		if !live && u.ID != 0 {
			if err := h.sessionStore.Delete(token); err != nil {
				h.log.Warn("end idle session", "user", user, "err", err)
			}
		}
		return live
	}
}

func userFrom(r *http.Request) (chat.User, bool) {
	u, ok := r.Context().Value(userKey{}).(chat.User)
	return u, ok
}

// signedIn guards a handler that needs a user. Pages send strangers to the
// log-in form. Streams and htmx requests get 401 in a form the page acts
// on: it says the person was signed out, stops reconnecting and keeps what
// they typed.
func (h *Handler) signedIn(fn func(http.ResponseWriter, *http.Request, chat.User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, ok := userFrom(r)
		if ok {
			fn(w, r, u)
			return
		}
		switch {
		case r.URL.Path == "/events" || r.URL.Path == "/ws":
			h.streams.RefuseSignedOut(w, r)
		case isHTMX(r):
			w.Header().Set("HX-Trigger", signedOutEvent)
			w.Header().Set("HX-Reswap", "none") // the form keeps its text
			http.Error(w, "You have been signed out. Log in and try again.", http.StatusUnauthorized)
		case r.Method == http.MethodGet:
			http.Redirect(w, r, loginPath(r.URL.RequestURI()), http.StatusSeeOther)
		default:
			h.fail(w, r, chat.Errorf(chat.Unauthorized, "Your session has ended. Log in and try again."))
		}
	}
}

// signedOutEvent is the page event for "your sign-in is over"; the hub's
// streams send the same name (hub.SignedOutEvent).
const signedOutEvent = "rtm-signed-out"

// loginPath is the log-in form that returns to next afterwards.
func loginPath(next string) string {
	if next == "" || next == "/" || next == "/rooms" {
		return "/login"
	}
	return "/login?" + url.Values{"next": {next}}.Encode()
}

// startSession signs u in on a fresh token, so a token planted before login
// (session fixation) is worthless.
func (h *Handler) startSession(r *http.Request, u chat.User) error {
	if err := h.sessions.RenewToken(r.Context()); err != nil {
		return err
	}
	for k, v := range sessiondata.SignedIn(u.ID, h.now()) { // the same values rtmbench's sessions hold
		h.sessions.Put(r.Context(), k, v)
	}
	noteUser(r, u.ID)
	h.touchLastSeen(r.Context(), u.ID)
	return nil
}

// touchLastSeen records activity for the directory's "last seen". It runs
// at most once a minute per session; a failure only costs that detail.
func (h *Handler) touchLastSeen(ctx context.Context, user int64) {
	if err := h.signIns.TouchLastSeen(ctx, user, h.now()); err != nil {
		h.log.Warn("record last seen", "user", user, "err", err)
	}
}

func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// clientIP is the address rate limits key on: the peer, or with TrustProxy
// the last hop the proxy appended to X-Forwarded-For.
func (h *Handler) clientIP(r *http.Request) string {
	if h.trustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			hops := strings.Split(xff, ",")
			if ip := strings.TrimSpace(hops[len(hops)-1]); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// SessionOf reports, for stored session data, whether it signs in the
// user with this id: for admin tooling that ends someone's sessions with
// the store's DeleteSessionsOf.
func SessionOf(id int64) func(data []byte) bool { return sessionOwner(id) }

// sessionOwner reports, for stored session data, whether it signs in the
// user with this id.
func sessionOwner(id int64) func(data []byte) bool {
	return func(data []byte) bool {
		_, values, err := sessiondata.Codec{}.Decode(data)
		if err != nil {
			return false
		}
		uid, _ := values[sessionUserKey].(int64)
		return uid == id
	}
}

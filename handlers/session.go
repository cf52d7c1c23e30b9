package handlers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

const (
	sessionUserKey = "uid"
	// sessionSeenKey holds when the session was last used (Unix seconds), for
	// the idle timeout. It is refreshed at most once a minute, so an active
	// user costs one session write a minute, not one per request.
	sessionSeenKey  = "seen"
	seenGranularity = 60
)

type userKey struct{}

// loadUser puts the signed-in user, if any, in the request context. A
// session unused for longer than the idle timeout is ended here.
func (h *Handler) loadUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := h.sessions.GetInt64(ctx, sessionUserKey)
		if id == 0 {
			next.ServeHTTP(w, r)
			return
		}
		now := h.now().Unix()
		seen := h.sessions.GetInt64(ctx, sessionSeenKey)
		if now-seen > int64(h.idle/time.Second) {
			if err := h.sessions.Destroy(ctx); err != nil {
				h.fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		u, err := h.store.UserByID(ctx, id)
		switch {
		case chat.CodeOf(err) == chat.NotFound: // account gone: the session means nothing now
			h.sessions.Remove(r.Context(), sessionUserKey)
		case err == nil && u.Deactivated:
			if err := h.sessions.Destroy(ctx); err != nil {
				h.fail(w, r, err)
				return
			}
		default:
			if err != nil {
				h.fail(w, r, err)
				return
			}
			if now-seen >= seenGranularity {
				h.sessions.Put(ctx, sessionSeenKey, now)
				h.touchLastSeen(ctx, u.ID)
			}
			r = r.WithContext(context.WithValue(r.Context(), userKey{}, u))
		}
		next.ServeHTTP(w, r)
	})
}

func userFrom(r *http.Request) (chat.User, bool) {
	u, ok := r.Context().Value(userKey{}).(chat.User)
	return u, ok
}

// signedIn guards a handler that needs a user. Pages send strangers to the
// log-in form; the stream and htmx requests get 401 (htmx is told where to go).
func (h *Handler) signedIn(fn func(http.ResponseWriter, *http.Request, chat.User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, ok := userFrom(r)
		if ok {
			fn(w, r, u)
			return
		}
		switch {
		case r.URL.Path == "/events" || r.URL.Path == "/ws":
			http.Error(w, "sign in to open the stream", http.StatusUnauthorized)
		case isHTMX(r):
			w.Header().Set("HX-Redirect", "/login")
			http.Error(w, "sign in first", http.StatusUnauthorized)
		case r.Method == http.MethodGet:
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		default:
			h.fail(w, r, chat.Errorf(chat.Unauthorized, "Your session has ended. Log in and try again."))
		}
	}
}

// startSession signs u in on a fresh token, so a token planted before login
// (session fixation) is worthless.
func (h *Handler) startSession(r *http.Request, u chat.User) error {
	if err := h.sessions.RenewToken(r.Context()); err != nil {
		return err
	}
	h.sessions.Put(r.Context(), sessionUserKey, u.ID)
	h.sessions.Put(r.Context(), sessionSeenKey, h.now().Unix())
	h.touchLastSeen(r.Context(), u.ID)
	return nil
}

// touchLastSeen records activity for the directory's "last seen". It runs
// at most once a minute per session; a failure only costs that detail.
func (h *Handler) touchLastSeen(ctx context.Context, user int64) {
	if err := h.store.TouchLastSeen(ctx, user, h.now()); err != nil {
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

// MintSession makes a signed-in session for a user without a log-in, in the
// format this package reads: for admin tooling (bulk benchmark users) that
// writes sessions straight to the store. The token is the cookie value.
func MintSession(userID int64, now time.Time, lifetime time.Duration) (token string, data []byte, expiry time.Time, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, time.Time{}, err
	}
	expiry = now.Add(lifetime)
	data, err = sessionCodec{}.Encode(expiry, map[string]any{sessionUserKey: userID, sessionSeenKey: now.Unix()})
	return base64.RawURLEncoding.EncodeToString(b[:]), data, expiry, err
}

// sessionOwner reports, for stored session data, whether it signs in the
// user with this id.
func sessionOwner(id int64) func(data []byte) bool {
	return func(data []byte) bool {
		_, values, err := sessionCodec{}.Decode(data)
		if err != nil {
			return false
		}
		uid, _ := values[sessionUserKey].(int64)
		return uid == id
	}
}

package handlers

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Every request gets one log line at info level, when it ends: its id, the
// route pattern it matched (never the path or query, which may carry an
// invitation's or sign-in link's token), the signed-in user's id, status,
// bytes and duration. A stream logs when it closes, so that the line can
// say how long it lasted and what it sent; one the hub takes over from
// net/http (hijacked) ends after the handler has returned, and logs then.
// Nothing from the body, headers or cookies is logged.

// requestIDHeader names the id a proxy may set (nginx: $request_id). A
// sane one is used and echoed back; otherwise the server makes its own,
// which it does not send back: every response would pay for the header.
const requestIDHeader = "X-Request-Id"

// requestInfo is what the handlers learn about a request for its log
// line. The handler chain writes it on the request's goroutine; it is read
// once that has returned (and for a hijacked connection, once it closed).
type requestInfo struct {
	id    string
	route string
	user  int64
}

type requestInfoKey struct{}

func infoOf(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// noteUser records the signed-in user for the request's log line.
func noteUser(r *http.Request, user int64) {
	if info := infoOf(r.Context()); info != nil {
		info.user = user
	}
}

// logRequests wraps the whole handler chain. lookup finds the route of a
// request no mux recorded one for (refused before routing, or failed while
// its session loaded).
func (h *Handler) logRequests(lookup func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{id: r.Header.Get(requestIDHeader)}
		if saneRequestID(info.id) {
			w.Header().Set(requestIDHeader, info.id)
		} else {
			info.id = newRequestID()
		}
		lw := &loggedWriter{ResponseWriter: w, h: h, r: r, lookup: lookup, method: r.Method, info: info, start: start}
		lw.pending.Store(1)
		defer lw.finish() // also when the handler panics
		next.ServeHTTP(lw.wrapped(), r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
	})
}

func (h *Handler) logRequest(method string, info *requestInfo, status int, bytes int64, took time.Duration) {
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs, slog.String("request_id", info.id), slog.String("method", method), slog.String("route", info.route))
	if info.user != 0 {
		attrs = append(attrs, slog.Int64("user", info.user))
	}
	attrs = append(attrs, slog.Int("status", status), slog.Int64("bytes", bytes),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000))
	h.log.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
}

// recordRoute notes the pattern mux matched, unless it is skip (the
// pattern an inner mux is mounted on). ServeMux sets r.Pattern on the
// request it was given, and the middlewares after the log copy the
// request, so the log itself never sees it. The inner mux returns first,
// so it records first: the most specific pattern wins.
func recordRoute(mux *http.ServeMux, skip string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { // also when the handler panics
			if info := infoOf(r.Context()); info != nil && info.route == "" && r.Pattern != skip {
				info.route = r.Pattern
			}
		}()
		mux.ServeHTTP(w, r)
	})
}

// failedRequest is what a log line about a failed request says of it: the
// route, never the path (which may hold a token), and the id that finds
// its request line.
func failedRequest(r *http.Request) []any {
	route, id := r.Pattern, ""
	if info := infoOf(r.Context()); info != nil {
		id = info.id
		if info.route != "" { // recorded by now: the request is unwinding
			route = info.route
		}
	}
	return []any{"method", r.Method, "route", route, "request_id", id}
}

// saneRequestID accepts ids a proxy makes (hex, UUIDs, base64url): at
// most 64 letters, digits, '-', '_' and '.', so that one cannot forge log
// lines or carry anything much.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// newRequestID makes 16 hex digits: enough to tell requests apart in a log,
// and no secret, so the cheap generator does.
func newRequestID() string {
	return strconv.FormatUint(rand.Uint64()|1<<63, 16)
}

// Package handlers is RT Messenger's HTTP layer: routes, forms, sessions,
// authentication and error mapping. It reaches storage and the fan-out hub
// only through the small interfaces declared here.
package handlers

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/sessiondata"
	"github.com/rtmessenger/rtmessenger/ratelimit"
	"github.com/rtmessenger/rtmessenger/static"
	"github.com/rtmessenger/rtmessenger/views"
)

// Store is what pages of every kind read: the signed-in user, their rooms,
// a room's history, the newest event id. What one resource needs beyond
// it is declared beside its handlers (AccountStore, MemberStore, …); New
// takes those from the same value unless Deps names another.
type Store interface {
	UserByID(ctx context.Context, id int64) (chat.User, error)
	Room(ctx context.Context, id int64) (chat.Room, error)
	RoomName(ctx context.Context, id int64) (chat.Room, error)
	Rooms(ctx context.Context, user int64) (joined, others []chat.Room, err error)
	IsMember(ctx context.Context, room, user int64) (bool, error)
	History(ctx context.Context, room, before int64, limit int) ([]chat.Message, bool, error)
	LatestID(ctx context.Context) (int64, error)
}

// Streams serves a signed-in user's event stream (the hub), over SSE or a
// WebSocket. session is the token of the sign-in that opened it, and
// alive re-checks that sign-in at every heartbeat.
type Streams interface {
	Serve(w http.ResponseWriter, r *http.Request, user int64, session string, alive func() bool,
		replay func(ctx context.Context, send func(id int64, event string, data []byte) error) error)
	ServeWebSocket(w http.ResponseWriter, r *http.Request, user int64, session string, alive func() bool,
		replay func(ctx context.Context, send func(id int64, event string, data []byte) error) error,
		receive func(ctx context.Context, frame []byte) []byte)
	// RefuseSignedOut answers a stream request without a live session so
	// that the page stops retrying and says so.
	RefuseSignedOut(w http.ResponseWriter, r *http.Request)
	// ServeGuest streams one room's events to a read-only guest of a
	// widget, with no account, while allowed says guests may read it.
	ServeGuest(w http.ResponseWriter, r *http.Request, room int64, allowed func() bool,
		replay func(ctx context.Context, send func(id int64, event string, data []byte) error) error)
	// CheckSessions has every stream's session, and every guest's right
	// to its room, checked now rather than at the next heartbeat.
	CheckSessions()
	// Online reports whether the user has a stream open. EndSession closes
	// the streams one sign-in opened (log-out); Disconnect closes all of a
	// user's (deactivation, password reset).
	Online(user int64) bool
	EndSession(user int64, session string)
	Disconnect(user int64)
	LiveDocs
}

// Deps is everything New needs.
type Deps struct {
	// Store must also be each resource's store declared beside its
	// handlers (AccountStore, MemberStore, …), as the SQLite store is.
	Store Store
	// Rooms keeps private rooms, room admins and invitations; nil: Store,
	// which must then have them (the SQLite store does).
	Rooms RoomStore
	// Attention keeps read marks and mentions; nil: Store, which must
	// then have them (the SQLite store does).
	Attention AttentionStore
	// Messages keeps edits, deletes, reactions and replies; nil: Store,
	// which must then have them (the SQLite store does).
	Messages MessageStore
	// Preferences keeps each person's choices; nil: Store, which must then
	// have them (the SQLite store does).
	Preferences Preferences
	// Search finds messages and the history around one; nil: Store,
	// which must then have them (the SQLite store does).
	Search SearchStore
	// Embeds keeps the sites that embed rooms; nil serves no widget.
	Embeds   EmbedStore
	Streams  Streams
	Sessions scs.Store
	Logger   *slog.Logger
	// SecureCookies marks the session cookie Secure (and names it with the
	// __Host- prefix); set it when users reach the server over HTTPS.
	SecureCookies bool
	// PublicURL is the site's origin as users reach it (no trailing slash),
	// for links handed out to be used elsewhere, such as sign-in links.
	// Empty: built from the request's Host, but only when that Host names
	// ListenAddr or the address the connection reached (see linkSite).
	PublicURL string
	// ListenAddr is the address the server was told to listen on (-addr).
	ListenAddr string
	// Heartbeat is how often the hub sends every stream something (hub
	// Options.Heartbeat, default 15 s): pages treat a stream silent for
	// much longer as dead.
	Heartbeat time.Duration
	// ReplayLimit is the most messages a reconnecting stream gets replayed;
	// beyond it the page is told to reload (default 1000).
	ReplayLimit int
	// Password sets the argon2id cost; the zero value means OWASP's
	// recommendation. Tests lower it.
	Password PasswordParams
	// SessionIdle ends a session unused this long (default 7 days);
	// SessionLifetime ends any session this long after login (default 30 days).
	SessionIdle, SessionLifetime time.Duration
	// TrustProxy takes client addresses from X-Forwarded-For (set it only
	// behind a proxy that sets that header).
	TrustProxy bool
	// Limits are the rate limits; a nil limiter does not limit.
	Limits Limits
	// Now is the clock; tests move it.
	Now func() time.Time
	// LiveDocMessages is the most messages a live log document (the frame
	// of a page without script) shows before it asks for a reload
	// (default 500): it never ends by itself, and a browser keeps all of
	// it. Tests lower it.
	LiveDocMessages int
	// BodyGrace is how long any request body may take beyond what it needs
	// at 16 KiB/s (default 10 s); tests shorten it.
	BodyGrace time.Duration
	// OnSignedIn, if set, is called for every request that carries a live
	// session (the server stops counting its connection as a stranger's).
	OnSignedIn func(*http.Request)
	// Live keeps who is typing and who is here (the hub); nil: nobody
	// types and everyone shows offline. Peers finds whose presence the
	// sidebar shows beside direct conversations (the store); nil: none.
	Live  Live
	Peers DirectPeers
	// Bus, when several nodes share the work, says whether it reaches
	// the others (/healthz); nil: one node, nothing to report.
	Bus BusHealth
	// ReplayFrom, when several nodes share the work, says how far back in
	// time a resumed stream's replay must reach before the event it
	// resumes from (redisbus.Bus.ReplayFrom): other nodes' events can
	// reach a stream after newer ones. nil: one node, where events reach
	// streams in id order; the replay starts after the resume point.
	ReplayFrom func(made time.Time) time.Time
	// Meter hears what the handlers count, for the metrics; nil: nothing.
	Meter Meter
	// Fragments are the stream fragments the relay rendered
	// (Relay.Fragments): the answer to a post sends the message's own.
	// nil: the answer renders it again.
	Fragments *Fragments
}

// Limits are the rate limiters, keyed as their names say.
type Limits struct {
	LoginPerIP      *ratelimit.Limiter // every log-in or sign-up attempt, by client address
	LoginPerAccount *ratelimit.Limiter // failed log-ins, by username
	Posts           *ratelimit.Limiter // messages, by user
	Streams         *ratelimit.Limiter // stream connects, by user
	Announcements   *ratelimit.Limiter // announcements sent, by user
	Typing          *ratelimit.Limiter // typing signals, by user
}

// Handler serves RT Messenger over HTTP.
type Handler struct {
	store    Store
	streams  Streams
	sessions *scs.SessionManager
	// sessionStore is where sessions live, for checks made outside a
	// request (a stream's heartbeat).
	sessionStore scs.Store
	log          *slog.Logger
	assets       views.Assets
	replayLimit  int
	liveDocMax   int
	heartbeat    time.Duration
	replayFrom   func(time.Time) time.Time
	passwords    *passwords
	idle         time.Duration
	trustProxy   bool
	secure       bool
	publicURL    string
	listenAddr   string
	limits       Limits
	now          func() time.Time
	onSignedIn   func(*http.Request)
	bodyGrace    time.Duration
	embeds       EmbedStore
	embedAssets  views.EmbedAssets
	rooms        RoomStore
	attention    AttentionStore
	preferences  Preferences
	messages     MessageStore
	search       SearchStore
	stores       // the rest of the store, by resource
	live         Live
	directPeers  DirectPeers
	bus          BusHealth
	meter        Meter
	fragments    *Fragments
	guestChecks  guestChecks // see guestsAllowed
}

// New builds the Handler.
func New(d Deps) *Handler {
	h := &Handler{
		store:       d.Store,
		streams:     d.Streams,
		log:         d.Logger,
		replayLimit: d.ReplayLimit,
		heartbeat:   cmp.Or(d.Heartbeat, 15*time.Second),
		liveDocMax:  cmp.Or(d.LiveDocMessages, 500),
		replayFrom:  d.ReplayFrom,
		assets: views.Assets{
			CSS:    static.URL("app.css"),
			Icon:   static.URL("favicon.svg"),
			Public: static.URL("public.js"),
			SSE:    static.URL("live-sse.js"),
			WS:     static.URL("live-ws.js"),
		},
		passwords:  newPasswords(d.Password),
		idle:       d.SessionIdle,
		trustProxy: d.TrustProxy,
		secure:     d.SecureCookies,
		publicURL:  d.PublicURL,
		listenAddr: d.ListenAddr,
		limits:     d.Limits,
		now:        d.Now,
		onSignedIn: d.OnSignedIn,
		bodyGrace:  d.BodyGrace,
		embeds:     d.Embeds,
		embedAssets: views.EmbedAssets{
			CSS:   static.URL("embed.css"),
			Frame: static.URL("embed-frame.js"),
		},
	}
	if h.idle <= 0 {
		h.idle = 7 * 24 * time.Hour
	}
	if d.SessionLifetime <= 0 {
		d.SessionLifetime = 30 * 24 * time.Hour
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.bodyGrace <= 0 {
		h.bodyGrace = 10 * time.Second
	}
	h.rooms = orStore(d.Rooms, d.Store)
	h.attention = orStore(d.Attention, d.Store)
	h.messages = orStore(d.Messages, d.Store)
	h.preferences = orStore(d.Preferences, d.Store)
	h.search = orStore(d.Search, d.Store)
	h.stores = storesOf(d.Store)
	h.live, h.directPeers, h.bus = d.Live, d.Peers, d.Bus
	if h.live == nil {
		h.live = noLive{}
	}
	if h.onSignedIn == nil {
		h.onSignedIn = func(*http.Request) {}
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.replayLimit <= 0 {
		h.replayLimit = 1000
	}
	h.meter = d.Meter
	h.fragments = d.Fragments
	if h.meter == nil {
		h.meter = noMeter{}
	}
	// A literal, not scs.New: New starts an in-memory store whose cleanup
	// goroutine cannot be stopped without a data race. The zero context key
	// is fine with one manager per request chain.
	sm := &scs.SessionManager{
		Lifetime: d.SessionLifetime,
		Store:    d.Sessions,
		Codec:    sessiondata.Codec{},
		Cookie: scs.SessionCookie{
			Name:     "rtm_session",
			Path:     "/",
			HttpOnly: true,
			SameSite: http.SameSiteLaxMode,
			Persist:  true,
		},
	}
	if d.SecureCookies {
		sm.Cookie.Secure = true
		sm.Cookie.Name = "__Host-rtm_session" // the browser then insists on Secure, Path=/ and no Domain
	}
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) { h.fail(w, r, err) }
	h.sessions = sm
	h.sessionStore = d.Sessions
	return h
}

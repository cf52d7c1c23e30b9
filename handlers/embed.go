package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// embedRequest is what every widget request starts from: the room, the
// site it is embedded for, and the origins allowed to frame it.
type embedRequest struct {
	room    chat.Room
	site    chat.Site
	secret  string
	origins []string
}

var errNotEmbeddable = chat.Errorf(chat.NotFound, "This room cannot be shown on this site.")

// embedTarget reads the room and site of a widget request. The frame is
// allowed for the room's registered origins even when the request is
// refused, so the host page shows why instead of a blank frame.
func (h *Handler) embedTarget(r *http.Request, room int64) (embedRequest, error) {
	var e embedRequest
	origins, err := h.embeds.EmbedOrigins(r.Context(), room)
	if err != nil {
		return e, err
	}
	e.origins = origins
	site, err := strconv.ParseInt(r.FormValue("site"), 10, 64)
	if err != nil || site <= 0 {
		return e, chat.Errorf(chat.NotFound, "The widget names no site (?site=).")
	}
	e.site, e.secret, e.room, err = h.embedSite(r.Context(), site, room)
	return e, err
}

// embedSite reads site and checks that it may show room.
func (h *Handler) embedSite(ctx context.Context, id, room int64) (site chat.Site, secret string, r chat.Room, err error) {
	if site, secret, err = h.embeds.Site(ctx, id); err != nil {
		return site, secret, r, err
	}
	if r, err = h.store.RoomName(ctx, room); err != nil && statusOf(err) == http.StatusInternalServerError {
		return site, secret, r, err
	}
	if err != nil || !site.Allows(room, r.Kind) {
		return site, secret, r, errNotEmbeddable
	}
	return site, secret, r, nil
}

// guestsAllowed is a guest stream's check, run at each heartbeat: the
// stream ends once site no longer shows room to guests (the room made
// private or taken off the site's list, guests turned off, the site
// disabled). A database that cannot answer ends nothing. One answer
// serves every guest of the same site and room for guestCheckFor, so a
// check pass reads once per room, not once per guest.
func (h *Handler) guestsAllowed(site, room int64) func() bool {
	return func() bool {
		return h.guestChecks.allowed(guestsOf{site, room}, func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s, _, _, err := h.embedSite(ctx, site, room)
			if err != nil {
				return statusOf(err) == http.StatusInternalServerError
			}
			return s.Guests
		})
	}
}

// guestsOf names the guests of one room on one site.
type guestsOf struct{ site, room int64 }

// guestChecks keeps the latest answer of guestsAllowed per site and room.
type guestChecks struct {
	mu      sync.Mutex
	answers map[guestsOf]guestAnswer
}

type guestAnswer struct {
	ok bool
	at time.Time
}

const guestCheckFor = time.Second

// recheckStreams has every stream checked now, guests' without the
// answers kept: a room or site just changed.
func (h *Handler) recheckStreams() {
	h.guestChecks.mu.Lock()
	h.guestChecks.answers = nil
	h.guestChecks.mu.Unlock()
	h.streams.CheckSessions()
}

func (g *guestChecks) allowed(key guestsOf, check func() bool) bool {
	g.mu.Lock()
	a, ok := g.answers[key]
	g.mu.Unlock()
	if ok && time.Since(a.at) < guestCheckFor {
		return a.ok
	}
	a = guestAnswer{check(), time.Now()}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.answers == nil || len(g.answers) > 10000 {
		g.answers = make(map[guestsOf]guestAnswer) // a plain bound: stale answers go too
	}
	g.answers[key] = a
	return a.ok
}

// embedPage serves GET /embed/rooms/{room}: with ?token= it spends the
// host's token and comes back signed in (the token works once, so a reload
// must not carry it); with a session it shows the room and composer; with
// neither, the read-only guest view if the site allows guests.
func (h *Handler) embedPage(w http.ResponseWriter, r *http.Request) {
	id, err := roomParam(r)
	if err != nil {
		h.embedFail(w, r, nil, err)
		return
	}
	e, err := h.embedTarget(r, id)
	if err != nil {
		h.embedFail(w, r, e.origins, err)
		return
	}
	if token := r.URL.Query().Get("token"); token != "" {
		h.spendEmbedToken(w, r, e, token)
		return
	}
	session := embedCredential(r)
	u, signedIn := h.embedUser(r.Context(), session, e.site.ID)
	if signedIn {
		member, err := h.store.IsMember(r.Context(), id, u.ID)
		if err != nil {
			h.embedFail(w, r, e.origins, err)
			return
		}
		signedIn = member // a token for another room signed in for that room only
	}
	switch {
	case signedIn:
		h.showEmbed(w, r, e, http.StatusOK, &u, session, views.Composer{RoomID: id})
	case session != "":
		h.embedFail(w, r, e.origins, chat.Errorf(chat.Unauthorized, "Your chat session has ended. Reload the page to sign in again."))
	case e.site.Guests:
		h.showEmbed(w, r, e, http.StatusOK, nil, "", views.Composer{})
	default:
		h.embedFail(w, r, e.origins, chat.Errorf(chat.Unauthorized, "Sign in on %s to chat here.", e.site.Label()))
	}
}

func (h *Handler) spendEmbedToken(w http.ResponseWriter, r *http.Request, e embedRequest, token string) {
	claims, err := chat.VerifyEmbedToken(token, []byte(e.secret), e.site.ID, e.room.ID, h.now())
	if err != nil {
		h.embedFail(w, r, e.origins, err)
		return
	}
	u, err := h.embeds.EmbedSignIn(r.Context(), e.site, claims, e.room.ID)
	if err != nil {
		h.embedFail(w, r, e.origins, err)
		return
	}
	session, err := h.startEmbedSession(u, e.site.ID)
	if err != nil {
		h.embedFail(w, r, e.origins, err)
		return
	}
	h.setEmbedCookie(w, session)
	h.embedHeaders(w, e.origins)
	http.Redirect(w, r, embedURL(e.room.ID, e.site.ID, session, r.URL.Query()), http.StatusSeeOther)
}

// showEmbed renders the widget for u (nil: a guest).
func (h *Handler) showEmbed(w http.ResponseWriter, r *http.Request, e embedRequest, status int, u *chat.User, session string, c views.Composer) {
	ctx := r.Context()
	after, err := h.store.LatestID(ctx)
	if err != nil {
		h.embedFail(w, r, e.origins, err)
		return
	}
	msgs, _, err := h.store.History(ctx, e.room.ID, 0, 50)
	if err != nil {
		h.embedFail(w, r, e.origins, err)
		return
	}
	p := h.embedPageModel(r, e)
	p.Messages = msgs
	if u != nil {
		c.RoomID = e.room.ID
		c.Embed = &views.EmbedCredential{Session: session, Site: e.site.ID}
		c = h.composer(ctx, *u, c)
		p.Composer = &c
		p.StreamPath = "/embed/events?" + url.Values{embedSessionArg: {session}, "after": {itoa(after)}}.Encode()
	} else {
		p.StreamPath = "/embed/events?" + url.Values{"site": {itoa(e.site.ID)}, "room": {itoa(e.room.ID)}, "after": {itoa(after)}}.Encode()
	}
	h.embedHeaders(w, e.origins)
	h.render(w, r, status, views.EmbedView(p))
}

func (h *Handler) embedPageModel(r *http.Request, e embedRequest) views.EmbedPage {
	theme := e.site.Theme.Over(themePicks(r.URL.Query()))
	css := ""
	if theme.Accent != "" || theme.Bg != "" {
		css = "/embed/theme.css?" + url.Values{"accent": {theme.Accent}, "bg": {theme.Bg}}.Encode()
	}
	return views.EmbedPage{Assets: h.embedAssets, Room: e.room, Host: e.site.Origin, Theme: theme, ThemeCSS: css}
}

// embedFail shows err inside the frame (for the origins allowed to frame
// the room; any other gets the browser's refusal).
func (h *Handler) embedFail(w http.ResponseWriter, r *http.Request, origins []string, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError {
		h.log.Error("embed request failed", append(failedRequest(r), "err", err)...)
	}
	if isHTMX(r) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintln(w, chat.ErrorText(err))
		return
	}
	h.embedHeaders(w, origins)
	h.render(w, r, status, views.EmbedErrorView(views.EmbedPage{Assets: h.embedAssets, Error: chat.ErrorText(err)}))
}

// embedHeaders lets exactly origins frame the response, instead of the
// frame-ancestors 'none' and X-Frame-Options every other page carries.
func (h *Handler) embedHeaders(w http.ResponseWriter, origins []string) {
	ancestors := "'none'"
	if len(origins) > 0 {
		ancestors = strings.Join(origins, " ")
	}
	hd := w.Header()
	hd.Del("X-Frame-Options")
	hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors "+ancestors)
	// The session is in the address: keep it out of any Referer.
	hd.Set("Referrer-Policy", "no-referrer")
}

// embedPost takes a message from a widget: POST /embed/rooms/{room}/messages.
func (h *Handler) embedPost(w http.ResponseWriter, r *http.Request) {
	id, err := roomParam(r)
	if err == nil {
		if err = parseForm(w, r); err != nil {
			h.meter.MessageRefused(refusalReason(err))
		}
	}
	if err != nil {
		h.embedFail(w, r, nil, err)
		return
	}
	e, err := h.embedTarget(r, id)
	if err != nil {
		h.embedFail(w, r, e.origins, err)
		return
	}
	session := embedCredential(r)
	u, ok := h.embedUser(r.Context(), session, e.site.ID)
	if !ok {
		h.embedFail(w, r, e.origins, chat.Errorf(chat.Unauthorized, "Your chat session has ended. Reload the page to sign in again."))
		return
	}
	typed := views.Composer{RoomID: id, Body: r.PostForm.Get("body"), ClientID: r.PostForm.Get("client_id"),
		Embed: &views.EmbedCredential{Session: session, Site: e.site.ID}}
	sent, err := h.send(r.Context(), u, typed)
	switch {
	case err != nil:
		if wait, limited := retryAfter(err); limited {
			setRetryAfter(w, wait)
		}
		h.embedComposerFailed(w, r, e, u, session, typed, err)
	case isHTMX(r):
		h.embedHeaders(w, e.origins)
		h.composerSent(w, r, u, views.Composer{RoomID: id, Embed: typed.Embed}, sent, func(err error) { h.embedFail(w, r, e.origins, err) })
	default:
		http.Redirect(w, r, embedURL(id, e.site.ID, session, nil), http.StatusSeeOther)
	}
}

// embedComposerFailed shows what went wrong beside the text as typed.
func (h *Handler) embedComposerFailed(w http.ResponseWriter, r *http.Request, e embedRequest, u chat.User, session string, typed views.Composer, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError || status == http.StatusNotFound {
		h.embedFail(w, r, e.origins, err)
		return
	}
	typed.Error = chat.ErrorText(err)
	typed.ClientID = keptClientID(typed.ClientID, err)
	if !isHTMX(r) {
		h.showEmbed(w, r, e, status, &u, session, typed)
		return
	}
	h.embedHeaders(w, e.origins)
	h.render(w, r, status, views.ComposerForm(h.composer(r.Context(), u, typed)))
}

// embedEvents serves a widget's stream: GET /embed/events, with ?es= for a
// site's user (the same stream a user of the app gets, for the rooms the
// widget joined), or ?site=&room= for a guest (that room only).
func (h *Handler) embedEvents(w http.ResponseWriter, r *http.Request) {
	after, known := resumePoint(r)
	if session := embedCredential(r); session != "" {
		h.embedUserEvents(w, r, session, after, known)
		return
	}
	room, err := strconv.ParseInt(r.URL.Query().Get("room"), 10, 64)
	if err != nil {
		h.streams.RefuseSignedOut(w, r)
		return
	}
	e, err := h.embedTarget(r, room)
	if err != nil || !e.site.Guests {
		h.streams.RefuseSignedOut(w, r)
		return
	}
	if ok, wait := h.limits.Streams.Allow("guest:" + h.clientIP(r)); !ok {
		err := tooMany(w, wait, "Too many stream connections.")
		http.Error(w, chat.ErrorText(err), statusOf(err))
		return
	}
	h.streams.ServeGuest(w, r, room, h.guestsAllowed(e.site.ID, room), h.guestReplay(room, after, known))
}

func (h *Handler) embedUserEvents(w http.ResponseWriter, r *http.Request, session string, after int64, known bool) {
	u, _, ok := h.embedSession(r.Context(), session)
	if !ok {
		h.streams.RefuseSignedOut(w, r)
		return
	}
	if ok, wait := h.limits.Streams.Allow(strconv.FormatInt(u.ID, 10)); !ok {
		err := tooMany(w, wait, "Too many stream connections.")
		http.Error(w, chat.ErrorText(err), statusOf(err))
		return
	}
	h.streams.Serve(w, r, u.ID, session, h.sessionAlive(session, u.ID), h.replayFor(u, after, known, r))
}

// guestReplay sends a guest what room missed after the resume point, or
// tells the widget to reload when that is too much.
func (h *Handler) guestReplay(room, after int64, known bool) func(context.Context, func(int64, string, []byte) error) error {
	return func(ctx context.Context, send func(int64, string, []byte) error) error {
		if !known {
			return h.reset(send, after, unknownResume)
		}
		if after < 0 {
			return nil
		}
		why, at, err := h.unreplayable(ctx, after)
		switch {
		case err != nil:
			return err
		case why != nil:
			return h.reset(send, at, *why)
		}
		msgs, after, err := h.missedAfter(ctx, after, func(after int64) ([]chat.Message, error) {
			return h.embeds.RoomMessagesAfter(ctx, room, after, h.replayLimit+1)
		})
		if err != nil {
			return err
		}
		if len(msgs) > h.replayLimit {
			return h.reset(send, after, tooMuchMissed)
		}
		for _, m := range msgs {
			data, err := renderEvent(ctx, m)
			if err != nil {
				return err
			}
			if err := send(m.EventID(), "", data); err != nil {
				return err
			}
		}
		h.meter.Replayed(len(msgs))
		return nil
	}
}

// embedTheme serves a site's colours: GET /embed/theme.css?accent=&bg=.
// Only #rgb and #rrggbb values get in.
func (h *Handler) embedTheme(w http.ResponseWriter, r *http.Request) {
	t := chat.Theme{}.Over(themePicks(r.URL.Query()))
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	var b strings.Builder
	b.WriteString(":root{")
	if t.Accent != "" {
		b.WriteString("--accent:" + t.Accent + ";")
	}
	if t.Bg != "" {
		b.WriteString("--bg:" + t.Bg + ";")
	}
	b.WriteString("}\n")
	w.Write([]byte(b.String()))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

package handlers

import (
	"net/http"
	"strings"

	"github.com/rtmessenger/rtmessenger/static"
)

// Routes returns the whole HTTP surface.
func (h *Handler) Routes() http.Handler {
	app := http.NewServeMux()
	app.HandleFunc("GET /{$}", h.home)
	app.HandleFunc("GET /signup", h.signupPage)
	app.HandleFunc("POST /signup", h.signup)
	app.HandleFunc("GET /login", h.loginPage)
	app.HandleFunc("POST /login", h.login)
	app.HandleFunc("POST /logout", h.logout)
	app.HandleFunc("GET /rooms", h.signedIn(h.roomsPage))
	app.HandleFunc("POST /rooms", h.signedIn(h.createRoom))
	app.HandleFunc("GET /rooms/{room}", h.signedIn(h.roomPage))
	app.HandleFunc("POST /rooms/{room}/join", h.signedIn(h.joinRoom))
	app.HandleFunc("POST /rooms/{room}/leave", h.signedIn(h.leaveRoom))
	app.HandleFunc("GET /rooms/{room}/members", h.signedIn(h.membersPage))
	app.HandleFunc("POST /rooms/{room}/members/{user}/remove", h.signedIn(h.removeMember))
	app.HandleFunc("POST /rooms/{room}/messages", h.signedIn(h.postMessage))
	app.HandleFunc("GET /rooms/{room}/messages", h.signedIn(h.olderMessages))
	app.HandleFunc("GET /rooms/{room}/messages/{id}", h.signedIn(h.permalinkPage))
	app.HandleFunc("GET /search", h.signedIn(h.searchPage))
	app.HandleFunc("POST /rooms/{room}/read", h.signedIn(h.markRead))
	app.HandleFunc("GET /rooms/{room}/mention-suggestions", h.signedIn(h.mentionSuggestions))
	app.HandleFunc("GET /mentions", h.signedIn(h.mentionsPage))
	app.HandleFunc("POST /rooms/{room}/typing", h.signedIn(h.typing))
	app.HandleFunc("POST /activity", h.signedIn(h.activity))
	// Room settings, room admins and invitations
	app.HandleFunc("GET /rooms/{room}/settings", h.signedIn(h.settingsPage))
	app.HandleFunc("POST /rooms/{room}/settings", h.signedIn(h.updateSettings))
	app.HandleFunc("POST /rooms/{room}/members", h.signedIn(h.addMember))
	app.HandleFunc("POST /rooms/{room}/members/{user}/admin", h.signedIn(h.setAdmin(true)))
	app.HandleFunc("POST /rooms/{room}/members/{user}/unadmin", h.signedIn(h.setAdmin(false)))
	app.HandleFunc("POST /rooms/{room}/invites", h.signedIn(h.createInvite))
	app.HandleFunc("POST /rooms/{room}/invites/{link}/revoke", h.signedIn(h.revokeInvite))
	app.HandleFunc("GET /invite/{token}", h.signedIn(h.invitePage))
	app.HandleFunc("POST /invite/{token}", h.signedIn(h.acceptInvite))
	app.HandleFunc("GET /events", h.signedIn(h.events))
	app.HandleFunc("GET /ws", h.signedIn(h.socket))
	app.HandleFunc("GET /rooms/{room}/live", h.liveDoc) // signed out, it answers in a document the page can frame
	app.HandleFunc("POST /settings/transport", h.signedIn(h.setTransport))
	app.HandleFunc("POST /settings/light", h.signedIn(h.setLight))
	app.HandleFunc("GET /rooms/{room}/messages/{id}/actions", h.signedIn(h.showMessage))
	app.HandleFunc("GET /rooms/{room}/messages/{id}/edit", h.signedIn(h.showMessage))
	app.HandleFunc("POST /rooms/{room}/messages/{id}/edit", h.signedIn(h.editMessage))
	app.HandleFunc("POST /rooms/{room}/messages/{id}/delete", h.signedIn(h.deleteMessage))
	app.HandleFunc("POST /rooms/{room}/messages/{id}/reactions", h.signedIn(h.react))
	app.HandleFunc("GET /sidebar", h.signedIn(h.sidebar))
	// Conversations and announcements
	app.HandleFunc("POST /dm", h.signedIn(h.startConversation))
	app.HandleFunc("GET /announcements", h.signedIn(h.announcePage))
	app.HandleFunc("POST /announcements", h.signedIn(h.announce))
	app.HandleFunc("GET /announcements/{id}", h.signedIn(h.announcementPage))
	// The people directory
	app.HandleFunc("GET /people", h.signedIn(h.peoplePage))
	app.HandleFunc("GET /people.csv", h.signedIn(h.exportPeople))
	app.HandleFunc("GET /people/import", h.signedIn(h.importPage))
	app.HandleFunc("POST /people/import", h.signedIn(h.importPeople))
	app.HandleFunc("GET /people/{username}", h.signedIn(h.personPage))
	app.HandleFunc("POST /people/{username}", h.signedIn(h.updatePerson))
	app.HandleFunc("POST /people/{username}/deactivate", h.signedIn(h.setActive(true)))
	app.HandleFunc("POST /people/{username}/reactivate", h.signedIn(h.setActive(false)))
	app.HandleFunc("POST /people/{username}/link", h.signedIn(h.makeSignInLink))
	app.HandleFunc("GET /welcome/{token}", h.welcomePage)
	app.HandleFunc("POST /welcome/{token}", h.welcome)
	app.HandleFunc("/", h.notFound)

	root := http.NewServeMux()
	root.Handle("GET "+static.Prefix, static.Handler())
	root.HandleFunc("GET /healthz", h.healthz)
	if h.embeds != nil {
		// Widgets on other sites: no app session here (a third-party frame
		// gets no Lax cookie anyway); their own credential is checked.
		root.HandleFunc("GET /embed/rooms/{room}", h.embedPage)
		root.HandleFunc("POST /embed/rooms/{room}/messages", h.embedPost)
		root.HandleFunc("GET /embed/events", h.embedEvents)
		root.HandleFunc("GET /embed/theme.css", h.embedTheme)
		app.HandleFunc("GET /admin/sites", h.signedIn(h.sitesPage))
		app.HandleFunc("POST /admin/sites", h.signedIn(h.createSite))
		app.HandleFunc("GET /admin/sites/{site}", h.signedIn(h.sitePage))
		app.HandleFunc("POST /admin/sites/{site}", h.signedIn(h.updateSite))
		app.HandleFunc("POST /admin/sites/{site}/secret", h.signedIn(h.rotateSiteSecret))
		app.HandleFunc("POST /admin/sites/{site}/disable", h.signedIn(h.setSiteDisabled(true)))
		app.HandleFunc("POST /admin/sites/{site}/enable", h.signedIn(h.setSiteDisabled(false)))
	}
	const appMount = "/"
	root.Handle(appMount, h.sessions.LoadAndSave(h.loadUser(recordRoute(app, ""))))

	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(h.crossOrigin))
	lookup := func(r *http.Request) string {
		if _, p := root.Handler(r); p != appMount {
			return p
		}
		_, p := app.Handler(r)
		return p
	}
	return h.logRequests(lookup, h.recoverPanics(h.bodyDeadline(securityHeaders(csrf.Handler(recordRoute(root, appMount))))))
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	if _, ok := userFrom(r); ok {
		http.Redirect(w, r, "/rooms", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// securityHeaders sets the headers every response carries. Pages load no
// inline script or style and never need eval, so the policy can be strict.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd["X-Content-Type-Options"] = noSniff
		// Streams and the static files are no documents: a page's policy
		// does not apply to them, and each would carry it on every load
		// (the first load's budget counts headers too). The one SVG there,
		// the icon, holds no script, so it needs no policy either.
		if r.URL.Path != "/events" && r.URL.Path != "/ws" && r.URL.Path != "/embed/events" && !strings.HasPrefix(r.URL.Path, static.Prefix) {
			hd["Content-Security-Policy"] = pagePolicy
			hd["Referrer-Policy"] = sameOrigin
			hd["X-Frame-Options"] = deny
		}
		next.ServeHTTP(w, r)
	})
}

// The security headers' values, shared by every response: assigning them
// costs no allocation, where Header.Set makes a slice each time. Nothing
// edits a header value in place; a handler that needs another value
// replaces it with Set (embed.go), which leaves these alone.
var (
	noSniff = []string{"nosniff"}
	// Scripts, styles and connections fall back to default-src: naming
	// them again would only lengthen every page's headers.
	pagePolicy = []string{"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"}
	sameOrigin = []string{"same-origin"}
	deny       = []string{"DENY"}
)

func (h *Handler) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				h.log.Error("handler panicked", append(failedRequest(r), "panic", p)...)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

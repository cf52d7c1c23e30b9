package handlers

import (
	"context"
	"net/http"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// SignInLinkStore keeps the one-time links that let a person choose a
// password: handed out by admins, spent on the welcome page.
type SignInLinkStore interface {
	CreateSignInLink(ctx context.Context, username string, by chat.User) (chat.Invite, error)
	SignInLinkUser(ctx context.Context, token string) (chat.User, error)
	UseSignInLink(ctx context.Context, token, passwordHash string) (chat.User, error)
}

// welcomePage lets an invited person choose a password: GET /welcome/{token}.
func (h *Handler) welcomePage(w http.ResponseWriter, r *http.Request) {
	u, err := h.signInLinks.SignInLinkUser(r.Context(), r.PathValue("token"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.showWelcome(w, r, http.StatusOK, u.Name, "")
}

func (h *Handler) showWelcome(w http.ResponseWriter, r *http.Request, status int, username, problem string) {
	// The token is in the address: keep it out of any Referer.
	w.Header().Set("Referrer-Policy", "no-referrer")
	p := views.Page{Title: "Welcome", Assets: h.assets}
	h.render(w, r, status, views.WelcomeView(views.WelcomePage{Page: p, Token: r.PathValue("token"), Username: username, Error: problem}))
}

// welcome spends the link: POST /welcome/{token} with password sets it and
// signs the person in (303 to /rooms). A link works once.
func (h *Handler) welcome(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	if ok, wait := h.limits.LoginPerIP.Allow(h.clientIP(r)); !ok {
		h.fail(w, r, tooMany(w, wait, "Too many attempts from your network."))
		return
	}
	token, password := r.PathValue("token"), r.PostForm.Get("password")
	u, err := h.signInLinks.SignInLinkUser(r.Context(), token)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := chat.CheckPassword(password); err != nil {
		h.showWelcome(w, r, http.StatusUnprocessableEntity, u.Name, chat.ErrorText(err))
		return
	}
	if u, err = h.signInLinks.UseSignInLink(r.Context(), token, h.passwords.hash(password)); err != nil {
		h.fail(w, r, err)
		return
	}
	// A new password ends every sign-in made with the old one, and their
	// open streams: a link is how a forgotten or stolen password is fixed.
	ended, err := h.signIns.DeleteSessionsOf(r.Context(), sessionOwner(u.ID))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.streams.Disconnect(u.ID)
	if ended > 0 {
		h.log.Info("password reset ended sessions", "user", u.Name, "sessions", ended)
	}
	if err := h.startSession(r, u); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("invited account activated", "user", u.Name)
	http.Redirect(w, r, "/rooms", http.StatusSeeOther)
}

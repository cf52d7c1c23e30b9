package handlers

import (
	"context"
	"net/http"
	"strings"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// AccountStore keeps accounts: signing up and logging in.
type AccountStore interface {
	CreateUser(ctx context.Context, name, passwordHash string) (chat.User, error)
	UserByName(ctx context.Context, name string) (chat.User, string, error)
}

func (h *Handler) signupPage(w http.ResponseWriter, r *http.Request) {
	h.authForm(w, r, http.StatusOK, true, "", "")
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	h.authForm(w, r, http.StatusOK, false, "", "")
}

func (h *Handler) authForm(w http.ResponseWriter, r *http.Request, status int, signup bool, username, problem string) {
	if _, ok := userFrom(r); ok && status == http.StatusOK {
		http.Redirect(w, r, h.afterLogin(r), http.StatusSeeOther)
		return
	}
	title := "Log in"
	if signup {
		title = "Sign up"
	}
	p := views.Page{Title: title, Assets: h.assets}
	h.render(w, r, status, views.AuthView(views.AuthPage{Page: p, Signup: signup, Username: username, Error: problem, Next: h.nextPage(r)}))
}

// nextPage is where to go after logging in: the page that sent the person
// to log in (?next= on the form, a hidden field once posted) if it is on
// this site, else nothing (the rooms list).
func (h *Handler) nextPage(r *http.Request) string {
	next := r.FormValue("next")
	if next == "" {
		return ""
	}
	if ok, err := localTarget(next); err == nil {
		return ok
	}
	return ""
}

// afterLogin is the redirect that ends a successful log-in.
func (h *Handler) afterLogin(r *http.Request) string {
	if next := h.nextPage(r); next != "" {
		return next
	}
	return "/rooms"
}

func (h *Handler) signup(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	typed := r.PostForm.Get("username")
	if ok, wait := h.limits.LoginPerIP.Allow(h.clientIP(r)); !ok {
		h.authFailed(w, r, true, typed, tooMany(w, wait, "Too many attempts from your network."))
		return
	}
	name, err := chat.CleanUsername(typed)
	if err == nil {
		err = chat.CheckPassword(r.PostForm.Get("password"))
	}
	var u chat.User
	if err == nil {
		u, err = h.accounts.CreateUser(r.Context(), name, h.passwords.hash(r.PostForm.Get("password")))
	}
	if err == nil {
		err = h.startSession(r, u)
	}
	if err != nil {
		h.authFailed(w, r, true, typed, err)
		return
	}
	h.log.Info("account created", "user", u.Name, "admin", u.Admin)
	// Like a log-in, back to the page that asked for an account (an invite).
	http.Redirect(w, r, h.afterLogin(r), http.StatusSeeOther)
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	typed, password := r.PostForm.Get("username"), r.PostForm.Get("password")
	if len(password) > chat.MaxPasswordBytes {
		h.authFailed(w, r, false, typed, chat.CheckPassword(password))
		return
	}
	// Both limits are checked before any hashing, so a flood costs no CPU.
	account := strings.ToLower(strings.TrimSpace(typed))
	if ok, wait := h.limits.LoginPerIP.Allow(h.clientIP(r)); !ok {
		h.authFailed(w, r, false, typed, tooMany(w, wait, "Too many log-in attempts from your network."))
		return
	}
	if ok, wait := h.limits.LoginPerAccount.Peek(account); !ok {
		h.authFailed(w, r, false, typed, tooMany(w, wait, "Too many failed log-ins for this account."))
		return
	}
	u, hash, err := h.accounts.UserByName(r.Context(), typed)
	switch {
	case chat.CodeOf(err) == chat.NotFound:
		h.passwords.spend(password) // same time as a wrong password: no username probing
		err = chat.Errorf(chat.Unauthorized, "Wrong username or password.")
	case err != nil:
	case hash == "": // imported, no password yet: spend the same time
		h.passwords.spend(password)
		err = chat.Errorf(chat.Unauthorized, "Wrong username or password.")
	case !h.passwords.verify(password, hash):
		err = chat.Errorf(chat.Unauthorized, "Wrong username or password.")
	case u.Deactivated:
		err = chat.Errorf(chat.Forbidden, "This account has been deactivated. Ask an admin to reactivate it.")
	default:
		err = h.startSession(r, u)
	}
	if chat.CodeOf(err) == chat.Unauthorized {
		h.limits.LoginPerAccount.Allow(account) // only failures count against the account
	}
	if err != nil {
		h.authFailed(w, r, false, typed, err)
		return
	}
	h.limits.LoginPerAccount.Reset(account)
	http.Redirect(w, r, h.afterLogin(r), http.StatusSeeOther)
}

// authFailed shows the form again with what went wrong and what was typed
// (never the password).
func (h *Handler) authFailed(w http.ResponseWriter, r *http.Request, signup bool, typed string, err error) {
	status := statusOf(err)
	if status == http.StatusInternalServerError {
		h.fail(w, r, err)
		return
	}
	h.authForm(w, r, status, signup, typed, chat.ErrorText(err))
}

// logout ends this sign-in everywhere it is in use: the session, and at
// once every stream it opened, in this tab and in others.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	token := h.sessions.Token(r.Context())
	if err := h.sessions.Destroy(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	if u, ok := userFrom(r); ok {
		h.streams.EndSession(u.ID, token)
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

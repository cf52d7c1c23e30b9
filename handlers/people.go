package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// PeopleStore keeps the people directory and each person's details.
type PeopleStore interface {
	People(ctx context.Context, q chat.PeopleQuery) ([]chat.Person, error)
	Person(ctx context.Context, username string) (chat.Person, error)
	UpdateProfile(ctx context.Context, username string, p chat.Profile, by chat.User) (chat.Person, error)
	ProfileChanges(ctx context.Context, username string, limit int) ([]chat.ProfileChange, error)
	SetDeactivated(ctx context.Context, username string, deactivate bool, by chat.User) (chat.User, error)
}

// auditShown is how many audit entries a person's page shows admins.
const auditShown = 200

// maxSearchRunes bounds a directory search.
const maxSearchRunes = 100

// peoplePage is the directory: GET /people with optional q and offset.
func (h *Handler) peoplePage(w http.ResponseWriter, r *http.Request, u chat.User) {
	q := r.URL.Query()
	search, err := chat.CleanSearch(q.Get("q"), maxSearchRunes)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = max(0, offset)
	people, err := h.people.People(r.Context(), chat.PeopleQuery{
		Search: search, Deactivated: u.Admin, Offset: offset, Limit: views.PeoplePerPage + 1,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	title := "People"
	if search != "" {
		title = "People matching " + search
	}
	p, joined, err := h.shell(r, u, title)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := views.PeoplePage{Page: p, Joined: joined, Search: search, People: people, Offset: offset, Online: map[int64]bool{}}
	if len(people) > views.PeoplePerPage {
		v.People, v.More = people[:views.PeoplePerPage], true
	}
	ids := make([]int64, len(v.People))
	for i, person := range v.People {
		v.Online[person.ID] = h.streams.Online(person.ID)
		ids[i] = person.ID
	}
	v.Presence = h.presenceOf(ids)
	h.render(w, r, http.StatusOK, views.PeopleView(v))
}

// shell reads what every page with the sidebar needs.
func (h *Handler) shell(r *http.Request, u chat.User, title string) (views.Page, []chat.Room, error) {
	p, err := h.page(r, title)
	if err != nil {
		return p, nil, err
	}
	joined, _, err := h.store.Rooms(r.Context(), u.ID)
	return p, joined, err
}

// personPage is one person's entry: GET /people/{username}.
func (h *Handler) personPage(w http.ResponseWriter, r *http.Request, u chat.User) {
	h.showPerson(w, r, u, http.StatusOK, func(v *views.PersonPage) {
		v.Saved = r.URL.Query().Get("saved") == "1"
		var link views.InviteLink
		if u.Admin && h.freshValue(r, signInLinkOf(r.PathValue("username")), &link) {
			v.Invite = &link
		}
	})
}

// showPerson renders a person's page; change adjusts the view (a form with
// errors, a fresh invite) before it renders.
func (h *Handler) showPerson(w http.ResponseWriter, r *http.Request, u chat.User, status int, change func(*views.PersonPage)) {
	person, err := h.people.Person(r.Context(), r.PathValue("username"))
	if err == nil && person.Deactivated && !u.Admin {
		err = chat.Errorf(chat.NotFound, "Nobody has the username %q.", r.PathValue("username"))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, joined, err := h.shell(r, u, person.Label())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := views.PersonPage{
		Page: p, Joined: joined, Person: person, Online: h.streams.Online(person.ID),
		CanEdit: chat.CanEditProfile(u, person.User), Form: views.ProfileForm{Profile: person.Profile},
	}
	if u.Admin {
		if v.Changes, err = h.people.ProfileChanges(r.Context(), person.Name, auditShown); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if change != nil {
		change(&v)
	}
	h.render(w, r, status, views.PersonView(v))
}

// updatePerson saves details: POST /people/{username}. Fields left out of
// the form keep their value; every field sent is validated.
func (h *Handler) updatePerson(w http.ResponseWriter, r *http.Request, u chat.User) {
	if err := parseForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	person, err := h.people.Person(r.Context(), r.PathValue("username"))
	if err == nil && !chat.CanEditProfile(u, person.User) {
		err = chat.Errorf(chat.Forbidden, "Only %s and admins can change these details.", person.Name)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	typed := person.Profile
	for _, f := range chat.ProfileFields {
		if vs, ok := r.PostForm[f.Name]; ok && len(vs) > 0 {
			typed = f.Set(typed, vs[0])
		}
	}
	clean, err := chat.CleanProfile(typed)
	if err == nil {
		_, err = h.people.UpdateProfile(r.Context(), person.Name, clean, u)
	}
	if err != nil {
		if statusOf(err) != http.StatusUnprocessableEntity {
			h.fail(w, r, err)
			return
		}
		h.showPerson(w, r, u, statusOf(err), func(v *views.PersonPage) {
			v.Form = views.ProfileForm{Profile: typed, Errors: chat.FieldErrors(err)}
		})
		return
	}
	http.Redirect(w, r, personPath(person.Name)+"?saved=1", http.StatusSeeOther)
}

func personPath(username string) string { return "/people/" + username }

// setActive deactivates or reactivates an account (admins): POST
// /people/{username}/deactivate or /reactivate. Deactivating ends the
// person's sessions everywhere and closes their open streams at once.
func (h *Handler) setActive(deactivate bool) func(http.ResponseWriter, *http.Request, chat.User) {
	return func(w http.ResponseWriter, r *http.Request, u chat.User) {
		target, err := h.people.SetDeactivated(r.Context(), r.PathValue("username"), deactivate, u)
		if err != nil {
			h.adminFailed(w, r, u, err)
			return
		}
		if deactivate {
			ended, err := h.signIns.DeleteSessionsOf(r.Context(), sessionOwner(target.ID))
			if err != nil {
				h.fail(w, r, err)
				return
			}
			h.streams.Disconnect(target.ID)
			h.log.Info("account deactivated", "user", target.Name, "by", u.Name, "sessions", ended)
		}
		http.Redirect(w, r, personPath(target.Name), http.StatusSeeOther)
	}
}

// adminFailed shows an admin action's refusal on the person's page.
func (h *Handler) adminFailed(w http.ResponseWriter, r *http.Request, u chat.User, err error) {
	if status := statusOf(err); status == http.StatusUnprocessableEntity || status == http.StatusConflict {
		h.showPerson(w, r, u, status, func(v *views.PersonPage) { v.AdminError = chat.ErrorText(err) })
		return
	}
	h.fail(w, r, err)
}

// makeSignInLink gives an admin a fresh one-time link for a person:
// POST /people/{username}/link. It is shown once, on the page answered.
// The link's address is settled first: a fresh link replaces the old one.
func (h *Handler) makeSignInLink(w http.ResponseWriter, r *http.Request, u chat.User) {
	if !u.Admin {
		h.fail(w, r, errAdminsOnly)
		return
	}
	site, err := h.linkSite(r)
	if err != nil {
		h.adminFailed(w, r, u, err)
		return
	}
	inv, err := h.signInLinks.CreateSignInLink(r.Context(), r.PathValue("username"), u)
	if err != nil {
		h.adminFailed(w, r, u, err)
		return
	}
	link := inviteLink(site, inv)
	name := r.PathValue("username")
	h.showFresh(w, r, signInLinkOf(name), link, personPath(name))
}

// signInLinkOf names a person's fresh sign-in link (see fresh.go).
func signInLinkOf(username string) string { return "sign-in:" + username }

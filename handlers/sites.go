package handlers

import (
	"net/http"
	"strconv"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/sessiondata"
	"github.com/rtmessenger/rtmessenger/views"
)

var errSitesAdminsOnly = chat.Errorf(chat.Forbidden, "Only admins can manage embedding sites.")

// sitesPage lists the embedding sites: GET /admin/sites (admins).
func (h *Handler) sitesPage(w http.ResponseWriter, r *http.Request, u chat.User) {
	h.showSites(w, r, u, http.StatusOK, views.SiteForm{})
}

func (h *Handler) showSites(w http.ResponseWriter, r *http.Request, u chat.User, status int, f views.SiteForm) {
	if !u.Admin {
		h.fail(w, r, errSitesAdminsOnly)
		return
	}
	sites, err := h.embeds.Sites(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rooms, err := h.publicRooms(r, u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.page(r, "Embedding sites")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, status, views.SitesView(views.SitesPage{Page: p, Sites: sites, Rooms: rooms, Form: f}))
}

// createSite registers a site: POST /admin/sites. The answer shows the
// new signing secret, once.
func (h *Handler) createSite(w http.ResponseWriter, r *http.Request, u chat.User) {
	if err := parseForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	f, site, err := siteFromForm(r, true)
	var secret string
	if err == nil {
		site, secret, err = h.embeds.CreateSite(r.Context(), u, site)
	}
	if err != nil {
		if statusOf(err) == http.StatusInternalServerError || statusOf(err) == http.StatusForbidden {
			h.fail(w, r, err)
			return
		}
		f.Errors = fieldErrors(err)
		h.showSites(w, r, u, statusOf(err), f)
		return
	}
	h.log.Info("embedding site registered", "origin", site.Origin, "by", u.Name)
	h.showFresh(w, r, secretOf(site.ID), secret, sitePathOf(site.ID))
}

// sitePage shows a site's settings: GET /admin/sites/{site}.
func (h *Handler) sitePage(w http.ResponseWriter, r *http.Request, u chat.User) {
	id, err := siteParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	saved := r.URL.Query().Get("saved") != ""
	var secret string
	if u.Admin {
		h.freshValue(r, secretOf(id), &secret)
	}
	h.showSite(w, r, u, http.StatusOK, id, func(p *views.SitePage) { p.Saved, p.Secret = saved, secret })
}

func (h *Handler) showSite(w http.ResponseWriter, r *http.Request, u chat.User, status int, id int64, change func(*views.SitePage)) {
	if !u.Admin {
		h.fail(w, r, errSitesAdminsOnly)
		return
	}
	site, _, err := h.embeds.Site(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rooms, err := h.publicRooms(r, u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.page(r, site.Origin)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	base, err := h.linkSite(r)
	if err != nil {
		base = "https://chat.example.com" // the admin is told to set -public-url elsewhere
	}
	sp := views.SitePage{Page: p, Site: site, Rooms: rooms, Form: formOfSite(site), Base: base}
	change(&sp)
	h.render(w, r, status, views.SiteView(sp))
}

// updateSite saves a site's settings: POST /admin/sites/{site}.
func (h *Handler) updateSite(w http.ResponseWriter, r *http.Request, u chat.User) {
	id, err := siteParam(r)
	if err == nil {
		err = parseForm(w, r)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, site, err := siteFromForm(r, false)
	site.ID = id
	if err == nil {
		err = h.embeds.UpdateSite(r.Context(), u, site)
	}
	if err == nil {
		h.recheckStreams() // guests of rooms the site no longer shows go now
	}
	if err != nil {
		if s := statusOf(err); s == http.StatusInternalServerError || s == http.StatusForbidden || s == http.StatusNotFound {
			h.fail(w, r, err)
			return
		}
		f.Errors = fieldErrors(err)
		h.showSite(w, r, u, statusOf(err), id, func(p *views.SitePage) { p.Form = f })
		return
	}
	http.Redirect(w, r, sitePathOf(id)+"?saved=1", http.StatusSeeOther)
}

// rotateSiteSecret makes a new secret: POST /admin/sites/{site}/secret.
func (h *Handler) rotateSiteSecret(w http.ResponseWriter, r *http.Request, u chat.User) {
	id, err := siteParam(r)
	var secret string
	if err == nil {
		secret, err = h.embeds.RotateSiteSecret(r.Context(), u, id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("embedding site secret rotated", "site", id, "by", u.Name)
	h.showFresh(w, r, secretOf(id), secret, sitePathOf(id))
}

// secretOf names a site's fresh secret (see fresh.go).
func secretOf(site int64) string { return "secret:" + strconv.FormatInt(site, 10) }

func sitePathOf(site int64) string { return "/admin/sites/" + strconv.FormatInt(site, 10) }

// setSiteDisabled stops or restarts a site's widgets. Disabling ends the
// sessions of the site's users and has every stream re-checked at once:
// theirs and the site's guests' end.
func (h *Handler) setSiteDisabled(disabled bool) func(http.ResponseWriter, *http.Request, chat.User) {
	return func(w http.ResponseWriter, r *http.Request, u chat.User) {
		id, err := siteParam(r)
		if err == nil {
			err = h.embeds.SetSiteDisabled(r.Context(), u, id, disabled)
		}
		if err == nil && disabled {
			_, err = h.signIns.DeleteSessionsOf(r.Context(), sessionOfSite(id))
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if disabled {
			h.recheckStreams() // its users' streams and guests go now
		}
		h.log.Info("embedding site", "site", id, "disabled", disabled, "by", u.Name)
		http.Redirect(w, r, sitePathOf(id), http.StatusSeeOther)
	}
}

// sessionOfSite reports, for stored session data, whether it is a widget
// session of site.
func sessionOfSite(site int64) func(data []byte) bool {
	return func(data []byte) bool {
		_, values, err := sessiondata.Codec{}.Decode(data)
		s, _ := values[sessionSiteKey].(int64)
		return err == nil && s == site
	}
}

func siteParam(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("site"), 10, 64)
	if err != nil || id <= 0 {
		return 0, chat.Errorf(chat.NotFound, "No such site.")
	}
	return id, nil
}

// siteFromForm reads the settings form, keeping what was typed for a
// second try.
func siteFromForm(r *http.Request, withOrigin bool) (views.SiteForm, chat.Site, error) {
	f := views.SiteForm{
		Origin: r.PostForm.Get("origin"), AllPublic: r.PostForm.Get("all_public") != "", Guests: r.PostForm.Get("guests") != "",
		Rooms: map[int64]bool{},
		Theme: chat.Theme{Accent: r.PostForm.Get("accent"), Bg: r.PostForm.Get("bg"), Font: r.PostForm.Get("font"),
			Density: r.PostForm.Get("density"), Scheme: r.PostForm.Get("scheme")},
	}
	site := chat.Site{AllPublic: f.AllPublic, Guests: f.Guests}
	for _, v := range r.PostForm["rooms"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, site, chat.FieldErrorf("rooms", chat.Invalid, "Pick rooms from the list.")
		}
		f.Rooms[id] = true
		site.Rooms = append(site.Rooms, id)
	}
	var err error
	if withOrigin {
		if site.Origin, err = chat.CleanOrigin(f.Origin); err != nil {
			return f, site, err
		}
	}
	if !site.AllPublic && len(site.Rooms) == 0 {
		return f, site, chat.FieldErrorf("rooms", chat.Invalid, "Pick the rooms the site may show, or every public room.")
	}
	site.Theme, err = chat.CleanTheme(f.Theme)
	return f, site, err
}

func formOfSite(s chat.Site) views.SiteForm {
	f := views.SiteForm{Origin: s.Origin, AllPublic: s.AllPublic, Guests: s.Guests, Theme: s.Theme, Rooms: map[int64]bool{}}
	for _, r := range s.Rooms {
		f.Rooms[r] = true
	}
	return f
}

// fieldErrors maps a validation error to its field for the form.
func fieldErrors(err error) map[string]string {
	field := chat.FieldOf(err)
	if field == "" {
		field = "origin"
	}
	return map[string]string{field: chat.ErrorText(err)}
}

// publicRooms lists every public room, for the room picker.
func (h *Handler) publicRooms(r *http.Request, u chat.User) ([]chat.Room, error) {
	joined, others, err := h.store.Rooms(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	var rooms []chat.Room
	for _, rm := range append(joined, others...) {
		if !rm.Private() {
			rooms = append(rooms, rm)
		}
	}
	return rooms, nil
}

package handlers

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// ImportStore adds people in bulk and lists everyone for export.
type ImportStore interface {
	AllPeople(ctx context.Context, deactivated bool) ([]chat.Person, error)
	ImportPeople(ctx context.Context, rows []chat.ImportRow, by chat.User) ([]chat.Invite, []chat.RowError, error)
}

// importPage is the CSV upload form (admins): GET /people/import.
func (h *Handler) importPage(w http.ResponseWriter, r *http.Request, u chat.User) {
	if !u.Admin {
		h.fail(w, r, errAdminsOnly)
		return
	}
	var v views.ImportPage
	var report importReport
	if h.freshValue(r, importForm, &report) || keptStash.get(h, r, importForm, &report) {
		v.Error, v.RowErrors = report.Error, report.RowErrors
		for _, l := range report.Invites {
			p := chat.Person{User: chat.User{Name: l.Name}, Profile: chat.Profile{DisplayName: l.Display}}
			v.Invites = append(v.Invites, views.InviteLink{Person: p, URL: l.URL, Expires: l.Expires})
		}
	}
	h.showImport(w, r, u, v)
}

// An import is answered with a redirect to the form's page (Post/Redirect/
// Get), which shows its report while its address carries the report's id:
// a reload there shows the report again instead of uploading the file
// again. The sign-in links it made are secrets, kept like any fresh secret
// (fresh.go); a refusal is kept like any refused form (kept.go).
const importForm = "import"

type importReport struct {
	Error     string          `json:"error,omitempty"`
	RowErrors []chat.RowError `json:"rows,omitempty"`
	Invites   []importedLink  `json:"invites,omitempty"`
}

// importedLink is what the report shows of one person imported: it waits
// in the session, so it holds no more than the page needs (about 150
// bytes; 5,000 people make 0.7 MB, for the ten minutes it is kept).
type importedLink struct {
	Name    string `json:"n"`
	Display string `json:"d,omitempty"`
	URL     string `json:"u"`
	Expires string `json:"e"`
}

var errAdminsOnly = chat.Errorf(chat.Forbidden, "Only admins can do this.")

func (h *Handler) showImport(w http.ResponseWriter, r *http.Request, u chat.User, v views.ImportPage) {
	p, joined, err := h.shell(r, u, "Import people")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Page, v.Joined = p, joined
	h.render(w, r, http.StatusOK, views.ImportView(v))
}

// importPeople reads an uploaded CSV (POST /people/import, multipart field
// `file`) and creates everyone in it, or nobody if any line is wrong.
func (h *Handler) importPeople(w http.ResponseWriter, r *http.Request, u chat.User) {
	if !u.Admin {
		h.fail(w, r, errAdminsOnly)
		return
	}
	// Everyone imported gets a sign-in link: settle its address first, or
	// nobody could be told how to sign in.
	site, err := h.linkSite(r)
	if err != nil {
		h.importFailed(w, r, err, nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	file, _, err := r.FormFile("file")
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			err = chat.FieldErrorf("file", chat.TooLarge, "The file is too large: the limit is %d MiB.", chat.MaxImportBytes>>20)
		} else {
			err = chat.FieldErrorf("file", chat.Invalid, "Choose a CSV file to import.")
		}
		h.importFailed(w, r, err, nil)
		return
	}
	defer file.Close()
	rows, rowErrs, err := chat.ParsePeopleCSV(file)
	if err == nil && len(rowErrs) == 0 && len(rows) == 0 {
		err = chat.FieldErrorf("file", chat.Invalid, "The file lists nobody to import.")
	}
	if err != nil || len(rowErrs) > 0 {
		h.importFailed(w, r, err, rowErrs)
		return
	}
	invites, rowErrs, err := h.imports.ImportPeople(r.Context(), rows, u)
	if err != nil || len(rowErrs) > 0 {
		h.importFailed(w, r, err, rowErrs)
		return
	}
	var report importReport
	for _, inv := range invites {
		l := inviteLink(site, inv)
		report.Invites = append(report.Invites, importedLink{Name: l.Person.Name, Display: l.Person.DisplayName, URL: l.URL, Expires: l.Expires})
	}
	h.log.Info("people imported", "count", len(invites), "by", u.Name)
	h.forgetKept(r, importForm) // Back to an earlier refusal must not show it as the outcome
	h.showFresh(w, r, importForm, report, "/people/import")
}

// importFailed sends the browser back to the form, which shows the file's
// problem or its bad lines.
func (h *Handler) importFailed(w http.ResponseWriter, r *http.Request, err error, rowErrs []chat.RowError) {
	report := importReport{RowErrors: rowErrs}
	if err != nil {
		if statusOf(err) == http.StatusInternalServerError {
			h.fail(w, r, err)
			return
		}
		report.Error = chat.ErrorText(err)
	}
	keptStash.put(h, w, r, importForm, report, "/people/import")
}

// exportPeople sends the directory as CSV: GET /people.csv. It holds what
// the directory page shows the same person (admins also get deactivated
// accounts), in the columns import reads.
func (h *Handler) exportPeople(w http.ResponseWriter, r *http.Request, u chat.User) {
	people, err := h.imports.AllPeople(r.Context(), u.Admin)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/csv; charset=utf-8")
	hd.Set("Content-Disposition", `attachment; filename="people.csv"`)
	hd.Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write(chat.PeopleCSVHeader)
	for _, p := range people {
		cw.Write(chat.PeopleCSVRecord(p))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		h.log.Warn("export people", "err", err)
	}
}

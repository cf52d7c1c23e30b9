package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// A form posted without script that is refused is answered with a redirect
// to the page that shows it (Post/Redirect/Get), never with that page at
// the form's own address: reloading there would send the form again, and
// some of these addresses have no page at all (POST /dm). What was typed
// and why it was refused wait in the session for that page, which shows
// them while its address carries their id (?kept=), so a reload shows them
// again instead of losing them.

const (
	keptKey = "kept"
	// keptFor bounds how long a refusal is shown again: long enough for a
	// reload or Back, not for a bookmark to bring it back next week.
	keptFor = time.Hour
)

// kept is a refused form post: which form, what it held, and why.
type kept struct {
	ID     string            `json:"id"`
	Form   string            `json:"form"` // composerForm(room), "dm", ...
	Fields map[string]string `json:"fields,omitempty"`
	Error  string            `json:"error"`
	At     int64             `json:"at"` // Unix seconds
}

// keepRefused answers a refused no-script post of form: what it held
// (fields) and why it was refused go into the session, and the browser
// goes to the page to (a path on this site), which shows them.
func (h *Handler) keepRefused(w http.ResponseWriter, r *http.Request, form string, fields map[string]string, err error, to string) {
	k := kept{ID: chat.NewClientID()[:12], Form: form, Fields: fields, Error: chat.ErrorText(err), At: h.now().Unix()}
	b, merr := json.Marshal(k)
	if merr != nil { // only strings in it: cannot happen
		h.fail(w, r, merr)
		return
	}
	h.sessions.Put(r.Context(), keptKey, string(b))
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	http.Redirect(w, r, to+sep+"kept="+k.ID, http.StatusSeeOther)
}

// keptPost returns the refused post of form that r's address asks to show.
func (h *Handler) keptPost(r *http.Request, form string) (kept, bool) {
	id := r.URL.Query().Get("kept")
	if id == "" {
		return kept{}, false
	}
	var k kept
	s := h.sessions.GetString(r.Context(), keptKey)
	if s == "" || json.Unmarshal([]byte(s), &k) != nil || k.ID != id || k.Form != form || h.now().Unix()-k.At > int64(keptFor/time.Second) {
		return kept{}, false
	}
	return k, true
}

// forgetKept drops a refused post of form once that form went through:
// Back to the page that showed the refusal must not offer the old text
// again as if it had not been sent.
func (h *Handler) forgetKept(r *http.Request, form string) {
	s := h.sessions.GetString(r.Context(), keptKey)
	if s == "" {
		return // the usual case: no session write
	}
	var k kept
	if json.Unmarshal([]byte(s), &k) != nil || k.Form == form || h.now().Unix()-k.At > int64(keptFor/time.Second) {
		h.sessions.Remove(r.Context(), keptKey)
	}
}

// composerForm names a room's composer among kept forms.
func composerForm(room int64) string { return "composer:" + strconv.FormatInt(room, 10) }

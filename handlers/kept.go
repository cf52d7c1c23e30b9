package handlers

import (
	"net/http"
	"strconv"
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

// keptStash holds the refusal; keptFor bounds how long a refusal is shown
// again: long enough for a reload or Back, not for a bookmark to bring it
// back next week.
var keptStash = stash{key: "kept", ttl: keptFor}

const keptFor = time.Hour

// kept is a refused form post: what it held, and why.
type kept struct {
	Fields map[string]string `json:"fields,omitempty"`
	Error  string            `json:"error"`
}

// keepRefused answers a refused no-script post of form: what it held
// (fields) and why it was refused go into the session, and the browser
// goes to the page to (a path on this site), which shows them.
func (h *Handler) keepRefused(w http.ResponseWriter, r *http.Request, form string, fields map[string]string, err error, to string) {
	keptStash.put(h, w, r, form, kept{Fields: fields, Error: chat.ErrorText(err)}, to)
}

// keptPost returns the refused post of form that r's address asks to show.
func (h *Handler) keptPost(r *http.Request, form string) (kept, bool) {
	var k kept
	ok := keptStash.get(h, r, form, &k)
	return k, ok
}

// forgetKept drops a refused post of form once that form went through:
// Back to the page that showed the refusal must not offer the old text
// again as if it had not been sent.
func (h *Handler) forgetKept(r *http.Request, form string) {
	if !h.sessions.Exists(r.Context(), keptStash.key) {
		return // the usual case: no session write
	}
	if s, ok := keptStash.current(h, r); !ok || s.Tag == form {
		keptStash.drop(h, r)
	}
}

// composerForm names a room's composer among kept forms.
func composerForm(room int64) string { return "composer:" + strconv.FormatInt(room, 10) }

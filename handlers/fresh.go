package handlers

import (
	"net/http"
	"time"
)

// A form whose answer is a secret shown this once (an invite link, a
// sign-in link, a site's secret) is answered, like a refused form (see
// kept.go), with a redirect to the page that shows it: answering at the
// form's own address would make a reload post again, and make another
// link, or rotate the site's secret once more. The secret waits in the
// session for that page, which shows it while its address carries its id
// (?fresh=), so a reload or Back within ten minutes shows it again; after
// that, or in another browser, the page no longer has it.

var freshStash = stash{key: "fresh", ttl: 10 * time.Minute}

// showFresh answers a form that made value with a redirect to the page
// to (a path on this site), which shows it as kind.
func (h *Handler) showFresh(w http.ResponseWriter, r *http.Request, kind string, value any, to string) {
	freshStash.put(h, w, r, kind, value, to)
}

// freshValue fills dst with the value of kind that r's address asks to
// show, and reports whether there was one.
func (h *Handler) freshValue(r *http.Request, kind string, dst any) bool {
	return freshStash.get(h, r, kind, dst)
}

package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// A form whose answer is a secret shown this once (an invite link, a
// sign-in link, a site's secret) is answered, like a refused form (see
// kept.go), with a redirect to the page that shows it: answering at the
// form's own address would make a reload post again, and make another
// link, or rotate the site's secret once more. The secret waits in the
// session for that page, which shows it while its address carries its id
// (?fresh=), so a reload or Back within freshFor shows it again; after
// that, or in another browser, the page no longer has it.

const (
	freshKey = "fresh"
	freshFor = 10 * time.Minute
)

// fresh is a secret waiting for the page that shows it.
type fresh struct {
	ID    string          `json:"id"`
	Kind  string          `json:"kind"` // "invite:12", "secret:3", ...
	Value json.RawMessage `json:"value"`
	At    int64           `json:"at"` // Unix seconds
}

// showFresh answers a form that made value with a redirect to the page
// to (a path on this site), which shows it as kind.
func (h *Handler) showFresh(w http.ResponseWriter, r *http.Request, kind string, value any, to string) {
	v, err := json.Marshal(value)
	if err == nil {
		var b []byte
		f := fresh{ID: chat.NewClientID()[:12], Kind: kind, Value: v, At: h.now().Unix()}
		if b, err = json.Marshal(f); err == nil {
			h.sessions.Put(r.Context(), freshKey, string(b))
			sep := "?"
			if strings.Contains(to, "?") {
				sep = "&"
			}
			http.Redirect(w, r, to+sep+"fresh="+f.ID, http.StatusSeeOther)
			return
		}
	}
	h.fail(w, r, err) // only plain values go in: cannot happen
}

// freshValue fills dst with the value of kind that r's address asks to
// show, and reports whether there was one.
func (h *Handler) freshValue(r *http.Request, kind string, dst any) bool {
	id := r.URL.Query().Get("fresh")
	if id == "" {
		return false
	}
	var f fresh
	s := h.sessions.GetString(r.Context(), freshKey)
	if s == "" || json.Unmarshal([]byte(s), &f) != nil || f.ID != id || f.Kind != kind || h.now().Unix()-f.At > int64(freshFor/time.Second) {
		return false
	}
	return json.Unmarshal(f.Value, dst) == nil
}

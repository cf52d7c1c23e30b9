package handlers

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"time"
)

// A stash is how a form's answer reaches the page it redirects to (Post/
// Redirect/Get): the value waits in the session, and the page shows it
// while its address carries the value's id (?<param>=), so a reload or
// Back shows it again, for a while, instead of posting the form again.
// kept.go (a refused form) and fresh.go (a secret shown once) use it.
type stash struct {
	key string        // the session key, which is also the address's parameter
	ttl time.Duration // how long a reload still shows the value
}

// stashed is a value on its way to a page.
type stashed struct {
	ID    string          `json:"id"`
	Tag   string          `json:"tag"` // which form or secret: composerForm(room), "secret:3", ...
	Value json.RawMessage `json:"value"`
}

// put stores value as tag and redirects to the page to (a path on this
// site) with the value's id.
func (st stash) put(h *Handler, w http.ResponseWriter, r *http.Request, tag string, value any, to string) {
	v, err := json.Marshal(value)
	if err == nil {
		var b []byte
		s := stashed{ID: rand.Text()[:12], Tag: tag, Value: v}
		if b, err = json.Marshal(s); err == nil {
			h.sessions.Put(r.Context(), st.key, string(b))
			h.sessions.Put(r.Context(), st.atKey(), h.now().Unix())
			http.Redirect(w, r, to+"?"+st.key+"="+s.ID, http.StatusSeeOther)
			return
		}
	}
	h.fail(w, r, err) // only plain values go in: cannot happen
}

// get fills dst with the value of tag that r's address asks for, and
// reports whether there was one still fresh.
func (st stash) get(h *Handler, r *http.Request, tag string, dst any) bool {
	id := r.URL.Query().Get(st.key)
	if id == "" {
		return false
	}
	s, ok := st.current(h, r)
	return ok && s.ID == id && s.Tag == tag && json.Unmarshal(s.Value, dst) == nil
}

// current is the value in the session, if any and not too old.
func (st stash) current(h *Handler, r *http.Request) (stashed, bool) {
	var s stashed
	if st.stale(h, r) {
		return s, false
	}
	raw := h.sessions.GetString(r.Context(), st.key)
	if raw == "" || json.Unmarshal([]byte(raw), &s) != nil {
		return stashed{}, false
	}
	return s, true
}

// atKey holds when the value was put (Unix seconds), beside it: telling
// whether it is stale must not mean decoding it (an import's report can
// be large).
func (st stash) atKey() string { return st.key + "-at" }

func (st stash) stale(h *Handler, r *http.Request) bool {
	return h.now().Unix()-h.sessions.GetInt64(r.Context(), st.atKey()) > int64(st.ttl/time.Second)
}

// drop removes the value from the session.
func (st stash) drop(h *Handler, r *http.Request) {
	h.sessions.Remove(r.Context(), st.key)
	h.sessions.Remove(r.Context(), st.atKey())
}

// dropStale removes a value past its time from the session, so that it
// weighs on no request after: pages call it as they are built.
func (st stash) dropStale(h *Handler, r *http.Request) {
	if h.sessions.Exists(r.Context(), st.key) && st.stale(h, r) {
		st.drop(h, r)
	}
}

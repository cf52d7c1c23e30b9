package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A form that makes a secret (an invite link, a sign-in link, a site's
// secret) answers with a redirect to the page that shows it: reloading
// that page shows the same secret again and makes no other, and the page
// without the fresh id, or in another browser, shows none.
func TestFreshSecretsAreShownAfterARedirect(t *testing.T) {
	e := newEmbedRig(t)
	admin := e.admin
	e.a.signup("eve")
	room := admin.createRoom("hideout")
	for _, c := range []struct {
		name, path string
		form       url.Values
		page       string
		secret     *regexp.Regexp
	}{
		{"invite link", fmt.Sprintf("/rooms/%d/invites", room), url.Values{"expires": {"24"}, "uses": {"1"}}, fmt.Sprintf("/rooms/%d/settings", room), inviteURL},
		{"sign-in link", "/people/eve/link", nil, "/people/eve", welcomeLink},
		{"site secret", fmt.Sprintf("/admin/sites/%d/secret", e.site), nil, fmt.Sprintf("/admin/sites/%d", e.site), secretRe},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := admin.post(c.path, c.form, nil)
			if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, c.page+"?fresh=") {
				t.Fatalf("answer: %d to %q, want 303 to %s?fresh=…", res.status, res.location, c.page)
			}
			first := admin.get(res.location, nil)
			shown := c.secret.FindString(first.body)
			// The secret itself, without the markup around it: what the
			// session would hold.
			secret := ""
			if m := c.secret.FindStringSubmatch(first.body); m != nil {
				secret = m[len(m)-1]
			}
			if first.status != http.StatusOK || shown == "" {
				t.Fatalf("the page after the redirect: %d, no secret\n%.500s", first.status, first.body)
			}
			if again := admin.get(res.location, nil); c.secret.FindString(again.body) != shown {
				t.Fatalf("a reload shows %q, want the same %q", c.secret.FindString(again.body), shown)
			}
			if plain := admin.get(c.page, nil); strings.Contains(plain.body, shown) {
				t.Fatal("the page without its fresh id shows the secret")
			}
			// The same admin in another browser: allowed on the page, but
			// the secret stayed in the first browser's session.
			other := e.a.browser()
			other.get("/login", nil)
			if res := other.post("/login", url.Values{"username": {"admin"}, "password": {"password-admin"}}, nil); res.status != http.StatusSeeOther {
				t.Fatalf("the admin's second log-in: %d", res.status)
			}
			if page := other.get(res.location, nil); page.status != http.StatusOK || strings.Contains(page.body, shown) {
				t.Fatalf("another browser of the admin: %d, shows the secret: %v", page.status, strings.Contains(page.body, shown))
			}
			// Ten minutes on, a reload no longer shows it.
			e.clock.add(11 * time.Minute)
			if page := admin.get(res.location, nil); strings.Contains(page.body, shown) {
				t.Fatal("the secret is still shown after ten minutes")
			}
			// Nor is it kept: the next page dropped it from the session.
			admin.get("/rooms", nil)
			if sessionHolds(t, admin, secret) {
				t.Fatal("the session still holds the secret after ten minutes")
			}
		})
	}
}

// sessionHolds reports whether b's session, as stored, contains s.
func sessionHolds(t *testing.T, b *browser, s string) bool {
	t.Helper()
	c := sessionCookie(t, b)
	if c == nil {
		t.Fatal("no session cookie")
	}
	data, found, err := b.a.store.Sessions().FindCtx(t.Context(), c.Value)
	if err != nil || !found {
		t.Fatalf("session: found %v, %v", found, err)
	}
	return strings.Contains(string(data), s)
}

package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/internal/sseclient"
)

// embedRig is an app with an admin, a public room, and a registered site.
type embedRig struct {
	a      *app
	admin  *browser
	room   int64
	site   int64
	secret string
	clock  *clock
}

var (
	secretRe = regexp.MustCompile(`<code id="site-secret">([^<]+)</code>`)
	siteRe   = regexp.MustCompile(`action="/admin/sites/(\d+)"`)
)

// registerSite registers origin through the admin form and returns its id
// and secret.
func (e *embedRig) registerSite(t *testing.T, origin string, form url.Values) (int64, string) {
	t.Helper()
	form.Set("origin", origin)
	res := e.admin.follow(e.admin.post("/admin/sites", form, nil))
	secret, site := secretRe.FindStringSubmatch(res.body), siteRe.FindStringSubmatch(res.body)
	if res.status != http.StatusOK || secret == nil || site == nil {
		t.Fatalf("register %s: %d\n%s", origin, res.status, res.body)
	}
	id, _ := strconv.ParseInt(site[1], 10, 64)
	return id, secret[1]
}

func newEmbedRig(t *testing.T) *embedRig {
	t.Helper()
	return newEmbedRigWith(t, nil)
}

// newEmbedRigWith is newEmbedRig with a change to the handler's Deps.
func newEmbedRigWith(t *testing.T, change func(*Deps)) *embedRig {
	t.Helper()
	clk := &clock{t: time.Now()}
	e := &embedRig{clock: clk}
	e.a = newAppWith(t, hub.Options{}, nil, func(d *Deps) {
		d.Now = clk.now
		if change != nil {
			change(d)
		}
	})
	e.admin = e.a.signup("admin")
	e.room = e.admin.createRoom("help")
	e.site, e.secret = e.registerSite(t, "https://host.example", url.Values{"rooms": {itoa(e.room)}, "guests": {"1"}})
	return e
}

func (e *embedRig) token(t *testing.T, change func(*chat.EmbedClaims)) string {
	t.Helper()
	now := e.clock.now().Unix()
	c := chat.EmbedClaims{Site: e.site, Sub: "customer-1", Name: "Dana", Rooms: []int64{e.room}, Iat: now, Exp: now + 300,
		Nonce: fmt.Sprintf("nonce-%d", time.Now().UnixNano())}
	if change != nil {
		change(&c)
	}
	tok, err := chat.SignEmbedToken([]byte(e.secret), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *embedRig) widgetURL(token string) string {
	return fmt.Sprintf("/embed/rooms/%d?site=%d&token=%s", e.room, e.site, url.QueryEscape(token))
}

// signIn spends a good token in a fresh browser and returns it with the
// widget's address (which carries the session).
func (e *embedRig) signIn(t *testing.T) (*browser, string) {
	t.Helper()
	b := e.a.browser()
	res := b.get(e.widgetURL(e.token(t, nil)), nil)
	if res.status != http.StatusSeeOther || !strings.Contains(res.location, "es=") {
		t.Fatalf("spend token: %d %q\n%s", res.status, res.location, res.body)
	}
	return b, res.location
}

// Every way a token can be wrong gets 401 and says why inside the frame,
// which the registered host may show; a good token works once.
func TestEmbedTokensAreVerified(t *testing.T) {
	e := newEmbedRig(t)
	other, otherSecret := e.registerSite(t, "https://other.example", url.Values{"all_public": {"1"}})
	quiet := e.admin.createRoom("quiet")
	good := e.token(t, nil)
	now := e.clock.now().Unix()
	cases := []struct {
		name  string
		token string
		says  string
	}{
		{"expired", e.token(t, func(c *chat.EmbedClaims) { c.Iat, c.Exp = now-900, now-400 }), "has expired"},
		{"not yet valid", e.token(t, func(c *chat.EmbedClaims) { c.Iat, c.Exp = now+300, now+600 }), "not valid yet"},
		{"wrong site", func() string {
			tok, _ := chat.SignEmbedToken([]byte(otherSecret), chat.EmbedClaims{Site: other, Sub: "x", Name: "X", Rooms: []int64{e.room}, Iat: now, Exp: now + 60, Nonce: "nonce-other"})
			return tok
		}(), "signature does not match"},
		{"claims another site", e.token(t, func(c *chat.EmbedClaims) { c.Site = other }), "another site"},
		{"wrong room", e.token(t, func(c *chat.EmbedClaims) { c.Rooms = []int64{quiet} }), "does not grant this room"},
		{"bad signature", good[:len(good)-4] + "AAAA", "signature does not match"},
		{"oversized", strings.Repeat("a", chat.MaxEmbedTokenBytes+1), "too large"},
		{"malformed", "not-a-token", "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := e.a.browser().get(e.widgetURL(tc.token), nil)
			if res.status != http.StatusUnauthorized || !strings.Contains(res.body, tc.says) {
				t.Fatalf("%d, want 401 saying %q:\n%s", res.status, tc.says, res.body)
			}
			if got := frameAncestors(res.header); got != "https://host.example https://other.example" {
				t.Fatalf("frame-ancestors %q: the host must see the message", got)
			}
		})
	}
	if res := e.a.browser().get(e.widgetURL(good), nil); res.status != http.StatusSeeOther {
		t.Fatalf("good token: %d\n%s", res.status, res.body)
	}
	if res := e.a.browser().get(e.widgetURL(good), nil); res.status != http.StatusUnauthorized || !strings.Contains(res.body, "already used") {
		t.Fatalf("replayed token: %d\n%s", res.status, res.body)
	}
}

func frameAncestors(h http.Header) string {
	for _, d := range strings.Split(h.Get("Content-Security-Policy"), ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "frame-ancestors "); ok {
			return v
		}
	}
	return ""
}

// The widget may be framed by exactly the origins registered for its room;
// every other page may be framed by nobody.
func TestOnlyRegisteredOriginsMayFrame(t *testing.T) {
	e := newEmbedRig(t)
	e.registerSite(t, "http://localhost:8081", url.Values{"all_public": {"1"}})
	other := e.admin.createRoom("elsewhere")
	e.registerSite(t, "https://third.example", url.Values{"rooms": {itoa(other)}})
	res := e.a.browser().get(fmt.Sprintf("/embed/rooms/%d?site=%d", e.room, e.site), nil) // a guest
	if res.status != http.StatusOK {
		t.Fatalf("guest widget: %d\n%s", res.status, res.body)
	}
	if got := frameAncestors(res.header); got != "http://localhost:8081 https://host.example" {
		t.Fatalf("frame-ancestors %q", got)
	}
	if res.header.Get("X-Frame-Options") != "" {
		t.Fatal("the widget must not carry X-Frame-Options")
	}
	for _, path := range []string{"/rooms", fmt.Sprintf("/rooms/%d", e.room), "/admin/sites", "/login"} {
		res := e.admin.get(path, nil)
		if frameAncestors(res.header) != "'none'" || res.header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s may be framed: %q %q", path, res.header.Get("Content-Security-Policy"), res.header.Get("X-Frame-Options"))
		}
	}
}

// A site's user chats in the widget, with or without script; the app's
// users see their messages marked with the site, live and in history.
func TestSiteUsersChatInTheWidget(t *testing.T) {
	e := newEmbedRig(t)
	b, widget := e.signIn(t)
	page := b.get(widget, nil)
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="composer"`) || !strings.Contains(page.body, `name="es"`) {
		t.Fatalf("widget: %d\n%s", page.status, page.body)
	}
	session := regexp.MustCompile(`name="es" value="([^"]+)"`).FindStringSubmatch(page.body)[1]
	appStream := e.admin.open("", nil)
	ws := e.embedStream(t, "es="+url.QueryEscape(session))

	form := url.Values{"body": {"hello from the host site"}, "es": {session}, "site": {itoa(e.site)}}
	res := b.post(fmt.Sprintf("/embed/rooms/%d/messages", e.room), form, nil)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, fmt.Sprintf("/embed/rooms/%d?", e.room)) {
		t.Fatalf("no-script post: %d %s\n%s", res.status, res.location, res.body)
	}
	for _, s := range []*stream{appStream} {
		ev := s.next()
		for !strings.Contains(ev.Data, "hello from the host site") {
			ev = s.next()
		}
		mustContain(t, ev.Data, `<strong class="author">Dana</strong> <span class="site">host.example</span>`)
	}
	ev := nextWith(t, ws, "hello from the host site")
	mustContain(t, ev.Data, `<span class="site">host.example</span>`)

	form.Set("body", "and with script")
	res = b.post(fmt.Sprintf("/embed/rooms/%d/messages", e.room), form, htmx)
	if res.status != http.StatusOK {
		t.Fatalf("htmx post: %d\n%s", res.status, res.body)
	}
	mustContain(t, res.body, `<hx-partial hx-target="#composer" hx-swap="outerHTML"><form id="composer"`, `name="es" value="`+session+`"`, "and with script")

	e.admin.post(fmt.Sprintf("/rooms/%d/messages", e.room), url.Values{"body": {"the app answers"}}, htmx)
	nextWith(t, ws, "the app answers")
	mustContain(t, e.admin.get(fmt.Sprintf("/rooms/%d", e.room), nil).body, `Dana</strong> <span class="site">host.example</span>`)

	// The widget's session signs in nowhere else, even as the app's cookie.
	forged := e.a.browser()
	u, _ := url.Parse(e.a.srv.URL)
	forged.c.Jar.SetCookies(u, []*http.Cookie{{Name: "rtm_session", Value: session}})
	if res := forged.get("/rooms", nil); res.status != http.StatusSeeOther || res.location != "/login" {
		t.Fatalf("a widget session opened the app: %d %s", res.status, res.location)
	}
	// Nor does it appear in the directory.
	mustNotContain(t, e.admin.get("/people", nil).body, "Dana")
}

// embedStream opens a widget stream with query and reads it.
func (e *embedRig) embedStream(t *testing.T, query string) *sseclient.Background {
	t.Helper()
	res, err := e.a.srv.Client().Get(e.a.srv.URL + "/embed/events?" + query)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("widget stream: %s", res.Status)
	}
	t.Cleanup(func() { res.Body.Close() })
	return sseclient.Read(res.Body)
}

func nextWith(t *testing.T, bg *sseclient.Background, text string) sseclient.Event {
	t.Helper()
	for {
		ev, err := bg.Next(streamWait)
		if err != nil {
			t.Fatalf("waiting for %q: %v", text, err)
		}
		if strings.Contains(ev.Data, text) {
			return ev
		}
	}
}

// A guest reads live and can do nothing else: no composer, no post, no
// other room's stream.
func TestGuestsOnlyRead(t *testing.T) {
	e := newEmbedRig(t)
	page := e.a.browser().get(fmt.Sprintf("/embed/rooms/%d?site=%d", e.room, e.site), nil)
	if page.status != http.StatusOK || strings.Contains(page.body, `id="composer"`) || !strings.Contains(page.body, "reading as a guest") {
		t.Fatalf("guest widget: %d\n%s", page.status, page.body)
	}
	guest := e.embedStream(t, fmt.Sprintf("site=%d&room=%d", e.site, e.room))
	e.a.waitConns(1)
	e.admin.post(fmt.Sprintf("/rooms/%d/messages", e.room), url.Values{"body": {"for the guests"}}, htmx)
	nextWith(t, guest, "for the guests")

	form := url.Values{"body": {"a forged post"}, "site": {itoa(e.site)}}
	if res := e.a.browser().post(fmt.Sprintf("/embed/rooms/%d/messages", e.room), form, htmx); res.status != http.StatusUnauthorized {
		t.Fatalf("a guest post: %d", res.status)
	}
	other := e.admin.createRoom("staff")
	res, err := e.a.srv.Client().Get(fmt.Sprintf("%s/embed/events?site=%d&room=%d", e.a.srv.URL, e.site, other))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a guest stream of a room the site may not show: %s", res.Status)
	}
	if res := e.a.browser().get(fmt.Sprintf("/rooms/%d/members", e.room), nil); res.status != http.StatusSeeOther {
		t.Fatalf("a guest reached the member list: %d", res.status)
	}
	msgs, _, _ := e.a.store.History(t.Context(), e.room, 0, 50)
	for _, m := range msgs {
		if m.Body == "a forged post" {
			t.Fatal("the forged post was stored")
		}
	}
}

// Admins register, change, rotate and disable sites; nobody else can.
func TestSiteAdministration(t *testing.T) {
	e := newEmbedRig(t)
	bob := e.a.signup("bob")
	if res := bob.get("/admin/sites", nil); res.status != http.StatusForbidden {
		t.Fatalf("a non-admin listed sites: %d", res.status)
	}
	if res := bob.post("/admin/sites", url.Values{"origin": {"https://x.example"}, "all_public": {"1"}}, nil); res.status != http.StatusForbidden {
		t.Fatalf("a non-admin registered a site: %d", res.status)
	}
	for _, bad := range []url.Values{
		{"origin": {"not an origin"}, "all_public": {"1"}},
		{"origin": {"https://x.example/path"}, "all_public": {"1"}},
		{"origin": {"https://x.example"}},                                         // no rooms
		{"origin": {"https://x.example"}, "all_public": {"1"}, "accent": {"red"}}, // not #rgb
		{"origin": {"https://host.example"}, "all_public": {"1"}},                 // taken
	} {
		if res := e.admin.post("/admin/sites", bad, nil); res.status < 400 || res.status >= 500 || !strings.Contains(res.body, `class="error"`) {
			t.Errorf("%v: %d", bad, res.status)
		}
	}
	sitePage := fmt.Sprintf("/admin/sites/%d", e.site)
	if strings.Contains(e.admin.get(sitePage, nil).body, e.secret) {
		t.Fatal("the secret is shown again")
	}
	old := e.token(t, nil)
	res := e.admin.follow(e.admin.post(sitePage+"/secret", nil, nil))
	fresh := secretRe.FindStringSubmatch(res.body)
	if fresh == nil || fresh[1] == e.secret {
		t.Fatalf("rotate: %d\n%s", res.status, res.body)
	}
	if res := e.a.browser().get(e.widgetURL(old), nil); res.status != http.StatusUnauthorized {
		t.Fatalf("a token signed with the old secret: %d", res.status)
	}
	e.secret = fresh[1]
	b, widget := e.signIn(t)

	res = e.admin.post(sitePage, url.Values{"all_public": {"1"}, "accent": {"#0B6E4F"}, "font": {"large"}}, nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("update: %d\n%s", res.status, res.body)
	}
	page := b.get(widget+"&density=compact&accent=nope", nil).body
	mustContain(t, page, `data-font="large"`, `data-density="compact"`, `/embed/theme.css?accent=%230b6e4f`)
	if css := e.a.browser().get("/embed/theme.css?accent=%230b6e4f&bg=red;x", nil).body; css != ":root{--accent:#0b6e4f;}\n" {
		t.Fatalf("theme css %q", css)
	}

	if res := e.admin.post(sitePage+"/disable", nil, nil); res.status != http.StatusSeeOther {
		t.Fatalf("disable: %d", res.status)
	}
	if res := b.get(widget, nil); res.status == http.StatusOK {
		t.Fatal("the widget of a disabled site still works")
	}
	if res := e.a.browser().get(e.widgetURL(e.token(t, nil)), nil); res.status == http.StatusSeeOther {
		t.Fatal("a disabled site's token was accepted")
	}
}

// With several nodes a guest's resumed stream reaches back before its
// resume point too, as a member's does: another node's older message may
// have reached this node after the newer one the guest saw last.
func TestGuestReplayReachesBackWhenNodesShareTheWork(t *testing.T) {
	e := newEmbedRigWith(t, func(d *Deps) {
		d.ReplayFrom = func(made time.Time) time.Time { return made.Add(-time.Hour) }
	})
	var last int64
	for i := range 3 {
		m, err := e.a.store.PostMessage(t.Context(), e.room, e.admin.user(), fmt.Sprint("m", i), "")
		if err != nil {
			t.Fatal(err)
		}
		last = m.ID
	}
	res, err := e.a.srv.Client().Do(func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/embed/events?site=%d&room=%d", e.a.srv.URL, e.site, e.room), nil)
		req.Header.Set("Last-Event-ID", fmt.Sprint(last))
		return req
	}())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	ev, err := sseclient.Read(res.Body).Next(streamWait)
	if err != nil || ev.IntID() >= last {
		t.Fatalf("a guest resuming after %d got %+v, %v first; want an older message sent again", last, ev, err)
	}
}

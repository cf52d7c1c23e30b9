package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/hub"
)

// createPrivate makes a private room as b and returns its id.
func (b *browser) createPrivate(name string) int64 {
	b.a.t.Helper()
	res := b.post("/rooms", url.Values{"name": {name}, "visibility": {"private"}}, nil)
	var id int64
	if _, err := fmt.Sscanf(res.location, "/rooms/%d", &id); res.status != http.StatusSeeOther || err != nil {
		b.a.t.Fatalf("create private room: %d %q\n%.500s", res.status, res.location, res.body)
	}
	return id
}

var inviteURL = regexp.MustCompile(`/invite/([A-Za-z0-9_-]{20,})`)

// makeLink makes an invite link to room as b and returns its token.
func (b *browser) makeLink(room int64, hours, uses string) string {
	b.a.t.Helper()
	res := b.follow(b.post(fmt.Sprintf("/rooms/%d/invites", room), url.Values{"expires": {hours}, "uses": {uses}}, nil))
	m := inviteURL.FindStringSubmatch(res.body)
	if res.status != http.StatusOK || m == nil {
		b.a.t.Fatalf("make invite link: %d\n%.500s", res.status, res.body)
	}
	return m[1]
}

func TestCreatingAPrivateRoomHidesIt(t *testing.T) {
	a := newApp(t)
	alice, bob := a.signup("alice"), a.signup("bob")
	room := alice.createPrivate("hideout")
	page := alice.get(fmt.Sprintf("/rooms/%d", room), nil)
	mustContain(t, page.body, `<span class="badge">private</span>`, "Settings", `id="composer"`)
	mustNotContain(t, bob.get("/rooms", nil).body, "hideout")
	res := bob.get(fmt.Sprintf("/rooms/%d", room), nil)
	if res.status != http.StatusNotFound || strings.Contains(res.body, "hideout") {
		t.Fatalf("a stranger opens it: %d\n%.300s", res.status, res.body)
	}
	// Rooms are public unless asked otherwise; a bad choice keeps the form.
	res = alice.post("/rooms", url.Values{"name": {"lobby"}, "visibility": {"secret"}}, nil)
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad visibility: %d", res.status)
	}
	mustContain(t, res.body, "Visibility must be public or private.", `value="lobby"`)
}

// A post refused before its membership is checked (an empty body, the
// rate limit) answers with a composer that names no private room its
// poster is not in.
func TestARefusedPostNamesNoPrivateRoom(t *testing.T) {
	a := newApp(t)
	alice, bob := a.signup("alice"), a.signup("bob")
	room := alice.createPrivate("hideout")
	path := fmt.Sprintf("/rooms/%d/messages", room)
	res := bob.post(path, url.Values{"body": {""}, "client_id": {"x"}}, htmx)
	if res.status < 400 || strings.Contains(res.body, "hideout") {
		t.Fatalf("an outsider's empty post: %d\n%.500s", res.status, res.body)
	}
	// Its member still gets the room named.
	mustContain(t, alice.post(path, url.Values{"body": {""}, "client_id": {"x"}}, htmx).body, `placeholder="Message # hideout"`)
}

func TestRoomSettings(t *testing.T) {
	a := newApp(t)
	alice, bob := a.signup("alice"), a.signup("bob")
	taken := bob.createRoom("taken")
	room := alice.createRoom("plans")
	bob.post(fmt.Sprintf("/rooms/%d/join", room), nil, nil)
	settings := fmt.Sprintf("/rooms/%d/settings", room)
	mustContain(t, alice.get(settings, nil).body, `value="plans"`, `value="public" checked`, "Make an invite link")
	if res := bob.get(settings, nil); res.status != http.StatusForbidden {
		t.Fatalf("a member opens the settings: %d", res.status)
	}
	mustNotContain(t, bob.get(fmt.Sprintf("/rooms/%d", room), nil).body, "settings-link")

	res := alice.post(settings, url.Values{"name": {"taken"}, "topic": {"t"}, "visibility": {"public"}}, nil)
	if res.status != http.StatusConflict {
		t.Fatalf("a taken name: %d", res.status)
	}
	mustContain(t, res.body, "A public room named", `value="taken"`)
	_ = taken

	res = alice.post(settings, url.Values{"name": {"secret plans"}, "topic": {"world"}, "visibility": {"private"}}, nil)
	if res.status != http.StatusSeeOther || res.location != settings+"?saved=1" {
		t.Fatalf("save: %d %q\n%.300s", res.status, res.location, res.body)
	}
	mustContain(t, alice.get(settings+"?saved=1", nil).body, "Settings saved.", `value="secret plans"`, `value="private" checked`)
	carol := a.signup("carol")
	if res := carol.get(fmt.Sprintf("/rooms/%d", room), nil); res.status != http.StatusNotFound {
		t.Fatalf("private now, yet a stranger gets %d", res.status)
	}
	if res := bob.get(fmt.Sprintf("/rooms/%d", room), nil); res.status != http.StatusOK {
		t.Fatalf("a member of the now private room gets %d", res.status)
	}
}

// Inviting by username adds the person at once; their open stream carries
// the room from then on, so it appears on their pages live.
func TestInviteByUsernameIsLive(t *testing.T) {
	a := newApp(t)
	alice, bob := a.signup("alice"), a.signup("bob")
	room := alice.createPrivate("hideout")
	bs := bob.open("", nil)
	a.waitConns(1)
	res := alice.post(fmt.Sprintf("/rooms/%d/members", room), url.Values{"username": {"bob"}}, nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("invite: %d\n%.300s", res.status, res.body)
	}
	mustContain(t, alice.get(res.location, nil).body, "bob was added.")
	ev := bs.next()
	if !strings.Contains(ev.Data, fmt.Sprintf(`hx-target="#log-%d"`, room)) || !strings.Contains(ev.Data, "was added by alice") {
		t.Fatalf("bob's stream: %+v", ev)
	}
	alice.post(fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {"welcome bob"}}, htmx)
	if ev := bs.next(); !strings.Contains(ev.Data, "welcome bob") {
		t.Fatalf("bob's stream: %+v", ev)
	}
	if res := bob.get(fmt.Sprintf("/rooms/%d", room), nil); res.status != http.StatusOK {
		t.Fatalf("bob opens it: %d", res.status)
	}
	// Refused: the settings page shows the form as typed and why.
	res = alice.post(fmt.Sprintf("/rooms/%d/members", room), url.Values{"username": {"nobody"}}, nil)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, fmt.Sprintf("/rooms/%d/settings?kept=", room)) {
		t.Fatalf("inviting nobody: %d to %q", res.status, res.location)
	}
	mustContain(t, alice.get(res.location, nil).body, `Nobody active has the username`, `value="nobody"`)
}

// An invite link: a signed-out visitor logs in (or signs up) and comes
// back to it, sees the room and joins; a single-use link is then spent.
func TestInviteLinkJoinsThroughLogIn(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := alice.createPrivate("hideout")
	token := alice.makeLink(room, "24", "1")
	mustContain(t, alice.get(fmt.Sprintf("/rooms/%d/settings", room), nil).body, "By alice, for 1 person more")

	visitor := a.browser()
	res := visitor.get("/invite/"+token, nil)
	next := "/login?next=" + url.QueryEscape("/invite/"+token)
	if res.status != http.StatusSeeOther || res.location != next {
		t.Fatalf("signed out: %d %q, want %q", res.status, res.location, next)
	}
	form := visitor.get(next, nil)
	mustContain(t, form.body, `name="next" value="/invite/`+token+`"`, `href="/signup?next=%2Finvite%2F`+token+`"`)
	visitor.name = "bob"
	res = visitor.post("/signup", url.Values{"username": {"bob"}, "password": {"password-bob"}, "next": {"/invite/" + token}}, nil)
	if res.status != http.StatusSeeOther || res.location != "/invite/"+token {
		t.Fatalf("sign up: %d %q", res.status, res.location)
	}
	page := visitor.get("/invite/"+token, nil)
	if page.status != http.StatusOK {
		t.Fatalf("invite page: %d\n%.300s", page.status, page.body)
	}
	mustContain(t, page.body, "You are invited to", "hideout", "alice invited you", `action="/invite/`+token+`"`)
	res = visitor.post("/invite/"+token, nil, nil)
	if res.status != http.StatusSeeOther || res.location != fmt.Sprintf("/rooms/%d", room) {
		t.Fatalf("join: %d %q", res.status, res.location)
	}
	if res := visitor.get("/invite/"+token, nil); res.status != http.StatusSeeOther {
		t.Fatalf("a member opening the link again: %d", res.status)
	}
	carol := a.signup("carol")
	if res := carol.get("/invite/"+token, nil); res.status != http.StatusNotFound {
		t.Fatalf("a spent link: %d", res.status)
	}
}

func TestRevokedLinkStopsWorking(t *testing.T) {
	a := newApp(t)
	alice, bob := a.signup("alice"), a.signup("bob")
	room := alice.createPrivate("hideout")
	token := alice.makeLink(room, "1", "0")
	links, err := a.store.InviteLinks(t.Context(), room, alice.user())
	if err != nil || len(links) != 1 {
		t.Fatalf("links %v %v", links, err)
	}
	res := alice.post(fmt.Sprintf("/rooms/%d/invites/%d/revoke", room, links[0].ID), nil, nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.status)
	}
	mustContain(t, alice.get(res.location, nil).body, "No working invite links.")
	for _, res := range []result{bob.get("/invite/"+token, nil), bob.post("/invite/"+token, nil, nil)} {
		if res.status != http.StatusNotFound || strings.Contains(res.body, "hideout") {
			t.Fatalf("revoked link: %d\n%.300s", res.status, res.body)
		}
	}
}

// Removal reaches the removed person only, as one named event in their
// resumed stream (the hub cut the one they had); it carries the room and
// what to say, and the room's lines stop.
func TestRemovalEventReachesTheRemovedOnly(t *testing.T) {
	a := newApp(t)
	alice, bob, carol := a.signup("alice"), a.signup("bob"), a.signup("carol")
	room := alice.createPrivate("hideout")
	for _, n := range []string{"bob", "carol"} {
		alice.post(fmt.Sprintf("/rooms/%d/members", room), url.Values{"username": {n}}, nil)
	}
	own := bob.createRoom("bob's own")
	last, _ := a.store.LatestID(t.Context())
	bs, cs, as := bob.open("", nil), carol.open("", nil), alice.open("", nil)
	a.waitConns(3)
	res := alice.post(fmt.Sprintf("/rooms/%d/members/%d/remove", room, bob.user().ID), nil, nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("remove: %d", res.status)
	}
	if !bs.bg.Ended(streamWait) {
		t.Fatal("bob's stream was not cut")
	}
	alice.post(fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {"after bob left"}}, htmx)
	bs = bob.open("", http.Header{"Last-Event-ID": {fmt.Sprint(last)}})
	bob.post(fmt.Sprintf("/rooms/%d/messages", own), url.Values{"body": {"marker"}}, htmx)
	var removed []string
	for ev := bs.next(); !strings.Contains(ev.Data, "marker"); ev = bs.next() {
		if strings.Contains(ev.Data, "after bob left") {
			t.Fatal("bob still receives the room")
		}
		if ev.Name == removedEvent {
			removed = append(removed, ev.Data)
		}
	}
	if len(removed) != 1 {
		t.Fatalf("bob got %d removal events", len(removed))
	}
	var got struct {
		Room int64
		Text string
	}
	if err := json.Unmarshal([]byte(removed[0]), &got); err != nil || got.Room != room || got.Text != "You were removed from #hideout by alice." {
		t.Fatalf("removal event %q (%v)", removed[0], err)
	}
	for name, s := range map[string]*stream{"carol": cs, "alice": as} {
		for ev := s.next(); !strings.Contains(ev.Data, "after bob left"); ev = s.next() {
			if ev.Name == removedEvent {
				t.Fatalf("%s got bob's removal: %q", name, ev.Data)
			}
		}
	}
}

// A group conversation is named and grows from its settings; adding to a
// direct conversation opens the group of the three.
func TestGroupConversationsAreNamedAndGrow(t *testing.T) {
	a := newApp(t)
	alice, bob, carol := a.signup("alice"), a.signup("bob"), a.signup("carol")
	a.signup("dan")
	res := alice.post("/dm", url.Values{"with": {"bob, carol"}}, nil)
	group := res.location
	if res := bob.post(group+"/settings", url.Values{"name": {"Launch crew"}}, nil); res.status != http.StatusSeeOther {
		t.Fatalf("naming: %d\n%.300s", res.status, res.body)
	}
	mustContain(t, carol.get(group, nil).body, "<h1><bdi>Launch crew</bdi></h1>", "Settings")
	if res := carol.post(group+"/members", url.Values{"username": {"dan"}}, nil); res.status != http.StatusSeeOther {
		t.Fatalf("adding: %d\n%.300s", res.status, res.body)
	}
	mustContain(t, alice.get(group+"/members", nil).body, "dan")

	direct := alice.post("/dm", url.Values{"with": {"bob"}}, nil).location
	if res := bob.get(direct+"/settings", nil); res.status != http.StatusNotFound {
		t.Fatalf("a direct conversation's settings: %d", res.status)
	}
	res = alice.post(direct+"/members", url.Values{"username": {"carol"}}, nil)
	trio := alice.post("/dm", url.Values{"with": {"bob, carol"}}, nil).location
	if res.status != http.StatusSeeOther || res.location == direct || res.location == group || res.location != trio {
		t.Fatalf("adding to a direct conversation went to %q (direct %s, group %s, trio %s)", res.location, direct, group, trio)
	}
}

// Two conversations never show the same label in one person's sidebar.
func TestSidebarLabelsAreDistinct(t *testing.T) {
	a := newApp(t)
	alice, bob, carol := a.signup("alice"), a.signup("bob"), a.signup("carol")
	alice.post("/dm", url.Values{"with": {"bob"}}, nil)
	group := alice.post("/dm", url.Values{"with": {"bob, carol"}}, nil).location
	carol.post(group+"/leave", nil, nil) // alice and bob, in a group as well as directly
	page := alice.get("/rooms", nil).body
	side := page[strings.Index(page, `id="sidebar"`):]
	side = side[:strings.Index(side, "</nav>")]
	mustContain(t, side, `">bob <span class="unread">`, `">bob (group) <span class="unread">`)
	_ = bob
	if n := strings.Count(side, `data-room=`); n != 2 {
		t.Fatalf("%d conversations in the sidebar", n)
	}
}

// The members page shows room admins, and lets the creator appoint them.
func TestAppointingRoomAdmins(t *testing.T) {
	a := newApp(t)
	alice, bob := a.signup("alice"), a.signup("bob")
	room := alice.createRoom("club")
	bob.post(fmt.Sprintf("/rooms/%d/join", room), nil, nil)
	members := fmt.Sprintf("/rooms/%d/members", room)
	mustContain(t, alice.get(members, nil).body, "Make room admin")
	mustNotContain(t, bob.get(members, nil).body, "Make room admin", "Remove</button>")
	res := alice.post(fmt.Sprintf("%s/%d/admin", members, bob.user().ID), nil, nil)
	if res.status != http.StatusSeeOther || res.location != members {
		t.Fatalf("appoint: %d %q", res.status, res.location)
	}
	mustContain(t, alice.get(members, nil).body, "room admin", "Remove as room admin")
	if res := bob.get(fmt.Sprintf("/rooms/%d/settings", room), nil); res.status != http.StatusOK {
		t.Fatalf("a room admin opens the settings: %d", res.status)
	}
	mustContain(t, bob.get(fmt.Sprintf("/rooms/%d", room), nil).body, "settings-link")
	if ok, err := a.store.IsRoomAdmin(t.Context(), room, bob.user().ID); !ok || err != nil {
		t.Fatalf("bob is not a room admin (%v)", err)
	}
}

// A room made private stops showing in every widget at once: to guests,
// to a signed-in widget, to a fresh token.
func TestPrivateRoomIsNeverEmbedded(t *testing.T) {
	e := newEmbedRig(t)
	b, widget := e.signIn(t)
	if res := b.get(widget, nil); res.status != http.StatusOK {
		t.Fatalf("the widget while public: %d", res.status)
	}
	reading := e.embedStream(t, fmt.Sprintf("site=%d&room=%d", e.site, e.room))
	e.a.waitConns(1)
	res := e.admin.post(fmt.Sprintf("/rooms/%d/settings", e.room), url.Values{"name": {"help"}, "visibility": {"private"}}, nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("make private: %d", res.status)
	}
	// A guest already reading is let go, told why (not "signed out": a
	// guest has no session), and gets nothing more.
	told := false
	for {
		ev, err := reading.Next(streamWait)
		if err != nil {
			break // the stream ended
		}
		switch {
		case ev.Name == hub.ClosedEvent && ev.Data == hub.GuestsGoneNotice:
			told = true
		case ev.Name != hub.PresenceEvent && ev.Name != hub.TypingEvent:
			t.Fatalf("a guest of a room made private got %+v", ev)
		}
	}
	if !told {
		t.Error("the guest was not told why its stream ended")
	}
	if !reading.Ended(streamWait) {
		t.Fatal("the guest's stream of a room made private stayed open")
	}
	guest := fmt.Sprintf("/embed/rooms/%d?site=%d", e.room, e.site)
	for what, res := range map[string]result{
		"guest": e.a.browser().get(guest, nil), "session": b.get(widget, nil), "token": e.a.browser().get(e.widgetURL(e.token(t, nil)), nil),
	} {
		if res.status < 400 || strings.Contains(res.body, `id="composer"`) {
			t.Errorf("%s widget of a private room: %d\n%.300s", what, res.status, res.body)
		}
	}
}

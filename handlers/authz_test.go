package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/store"
)

// authzWorld is a room with a secret message and one person in each role.
type authzWorld struct {
	a                                 *app
	room                              int64
	roles                             map[string]*browser
	creator, member, nonMember, admin *browser
	secretID                          int64
}

const secret = "the launch code is 0000"

func newAuthzWorld(t *testing.T) *authzWorld {
	a := newApp(t)
	w := &authzWorld{a: a}
	w.admin = a.signup("root") // first account: admin, not in the room
	w.creator, w.member, w.nonMember = a.signup("alice"), a.signup("bob"), a.signup("carol")
	w.room = w.creator.createRoom("vault")
	w.member.post(fmt.Sprintf("/rooms/%d/join", w.room), nil, nil)
	m, err := a.store.PostMessage(t.Context(), w.room, w.creator.user(), secret, "")
	if err != nil {
		t.Fatal(err)
	}
	w.secretID = m.ID
	// A member whose account was deactivated: every session of theirs
	// ended, so they are a stranger to every route.
	gone := a.signup("dave")
	gone.post(fmt.Sprintf("/rooms/%d/join", w.room), nil, nil)
	w.admin.post("/people/dave/deactivate", nil, nil)
	w.roles = map[string]*browser{
		"anonymous": a.browser(), "non-member": w.nonMember, "member": w.member, "admin": w.admin, "creator": w.creator,
		"deactivated": gone,
	}
	return w
}

// Every route against every role: who may read history, post, leave, list
// or remove members, and open a stream. Reads that are refused must not
// leak the room's messages either.
func TestEveryRouteForEveryRole(t *testing.T) {
	type want map[string]int // role → status
	routes := []struct {
		method, path string // {room}, {before} and {bob} are filled in
		form         url.Values
		htmx         bool
		want         want
	}{
		{"GET", "/rooms", nil, false, want{"anonymous": 303, "non-member": 200, "member": 200, "admin": 200}},
		{"POST", "/rooms", url.Values{"name": {"new room"}}, false, want{"anonymous": 401, "non-member": 303, "member": 303, "admin": 303}},
		{"GET", "/rooms/{room}", nil, false, want{"anonymous": 303, "non-member": 200, "member": 200, "admin": 200}},
		{"GET", "/rooms/{room}/messages?before={before}", nil, false, want{"anonymous": 303, "non-member": 403, "member": 200, "admin": 403}},
		{"GET", "/rooms/{room}/messages?before={before}", nil, true, want{"anonymous": 401, "non-member": 403, "member": 200, "admin": 403}},
		{"POST", "/rooms/{room}/messages", url.Values{"body": {"hello"}}, false, want{"anonymous": 401, "non-member": 403, "member": 303, "admin": 403}},
		{"POST", "/rooms/{room}/messages", url.Values{"body": {"hello"}}, true, want{"anonymous": 401, "non-member": 403, "member": 200, "admin": 403}},
		{"POST", "/rooms/{room}/join", nil, false, want{"anonymous": 401, "non-member": 303, "member": 303, "admin": 303}},
		{"POST", "/rooms/{room}/leave", nil, false, want{"anonymous": 401, "non-member": 303, "member": 303, "admin": 303}},
		{"GET", "/rooms/{room}/members", nil, false, want{"anonymous": 303, "non-member": 403, "member": 200, "admin": 200, "creator": 200}},
		{"POST", "/rooms/{room}/members/{bob}/remove", nil, false, want{"anonymous": 401, "non-member": 403, "member": 422, "admin": 303, "creator": 303}},
		{"GET", "/rooms/{room}/settings", nil, false, want{"anonymous": 303, "non-member": 403, "member": 403, "admin": 200, "creator": 200}},
		{"POST", "/rooms/{room}/settings", url.Values{"name": {"vault"}, "visibility": {"public"}}, false, want{"anonymous": 401, "non-member": 403, "member": 403, "admin": 303, "creator": 303}},
		{"POST", "/rooms/{room}/members", url.Values{"username": {"carol"}}, false, want{"anonymous": 401, "non-member": 403, "member": 403, "admin": 303, "creator": 303}},
		{"POST", "/rooms/{room}/members/{bob}/admin", nil, false, want{"anonymous": 401, "non-member": 403, "member": 403, "admin": 303, "creator": 303}},
		{"POST", "/rooms/{room}/invites", url.Values{"expires": {"24"}, "uses": {"1"}}, false, want{"anonymous": 401, "non-member": 403, "member": 403, "admin": 303, "creator": 303}},
		{"GET", "/rooms/{room}/messages/{secret}", nil, false, want{"anonymous": 303, "non-member": 404, "member": 200, "admin": 404, "creator": 200, "deactivated": 303}},
		{"GET", "/rooms/{room}/messages/{secret}", nil, true, want{"anonymous": 401, "non-member": 404, "member": 200, "deactivated": 401}},
		{"GET", "/rooms/{room}/messages/{other}", nil, false, want{"non-member": 404, "member": 404, "creator": 404}},
		{"GET", "/search?q=launch", nil, false, want{"anonymous": 303, "non-member": 200, "member": 200, "admin": 200, "creator": 200, "deactivated": 303}},
		{"GET", "/search?q=launch&room={room}", nil, false, want{"anonymous": 303, "non-member": 404, "member": 200, "admin": 404, "deactivated": 303}},
		{"GET", "/events", nil, false, want{"anonymous": 401}},
		{"GET", "/ws", nil, false, want{"anonymous": 401}},
		// A member's answer never ends (the live log document): see livedoc_test.go.
		{"GET", "/rooms/{room}/live", nil, false, want{"anonymous": 401, "deactivated": 401, "non-member": 404, "admin": 404}},
		{"POST", "/settings/transport", url.Values{"transport": {"ws"}}, false, want{"anonymous": 401, "member": 303}},
		{"POST", "/settings/light", url.Values{"light": {"on"}}, false, want{"anonymous": 401, "member": 303}},
		{"POST", "/logout", nil, false, want{"anonymous": 303, "member": 303}},
		{"GET", "/rooms/{room}/messages/{msg}/actions", nil, false, want{"anonymous": 303, "deactivated": 303, "non-member": 403, "member": 200, "admin": 403, "creator": 200}},
		{"GET", "/rooms/{room}/messages/{msg}/edit", nil, true, want{"anonymous": 401, "deactivated": 401, "non-member": 403, "member": 200, "admin": 403, "creator": 200}},
		{"POST", "/rooms/{room}/messages/{msg}/edit", url.Values{"body": {"changed"}}, false, want{"anonymous": 401, "deactivated": 401, "non-member": 403, "member": 403, "admin": 403, "creator": 303}},
		{"POST", "/rooms/{room}/messages/{msg}/delete", nil, false, want{"anonymous": 401, "deactivated": 401, "non-member": 403, "member": 403, "admin": 403, "creator": 303}},
		{"POST", "/rooms/{room}/messages/{msg}/reactions", url.Values{"emoji": {"👍"}}, false, want{"anonymous": 401, "deactivated": 401, "non-member": 403, "member": 303, "admin": 403, "creator": 303}},
		{"POST", "/rooms/{room}/messages", url.Values{"body": {"re"}, "reply_to": {"{msg}"}}, false, want{"anonymous": 401, "deactivated": 401, "non-member": 403, "member": 303, "admin": 403}},
	}
	for _, rt := range routes {
		for role, status := range rt.want {
			name := fmt.Sprintf("%s %s htmx=%v as %s", rt.method, rt.path, rt.htmx, role)
			t.Run(name, func(t *testing.T) {
				w := newAuthzWorld(t) // fresh, so one case's join or leave cannot affect another
				fill := strings.NewReplacer("{room}", fmt.Sprint(w.room), "{before}", fmt.Sprint(w.secretID+1),
					"{bob}", fmt.Sprint(w.member.user().ID), "{msg}", fmt.Sprint(w.secretID), "{secret}", fmt.Sprint(w.secretID))
				path := fill.Replace(rt.path)
				if strings.Contains(path, "{other}") {
					path = strings.ReplaceAll(path, "{other}", fmt.Sprint(w.otherRoomMessage(t)))
				}
				form := url.Values{}
				for k, vs := range rt.form {
					for _, v := range vs {
						form.Add(k, fill.Replace(v))
					}
				}
				var hdr http.Header
				if rt.htmx {
					hdr = htmx
				}
				b := w.roles[role]
				var res result
				if rt.method == "GET" {
					res = b.get(path, hdr)
				} else {
					res = b.post(path, form, hdr)
				}
				if res.status != status {
					t.Fatalf("status %d, want %d\n%.300s", res.status, status, res.body)
				}
				if role != "member" && role != "creator" && strings.Contains(res.body, secret) {
					t.Fatal("the room's messages leaked")
				}
			})
		}
	}
}

// otherRoomMessage is a message of another room everyone in the world is
// in: asked for under the vault's address, it is not there.
func (w *authzWorld) otherRoomMessage(t *testing.T) int64 {
	t.Helper()
	lobby := w.creator.createRoom("lobby")
	for _, b := range []*browser{w.member, w.nonMember} {
		b.post(fmt.Sprintf("/rooms/%d/join", lobby), nil, nil)
	}
	m, err := w.a.store.PostMessage(t.Context(), lobby, w.creator.user(), "in the lobby", "")
	if err != nil {
		t.Fatal(err)
	}
	return m.ID
}

func TestStreamsCarryOnlyMembersRooms(t *testing.T) {
	w := newAuthzWorld(t)
	streams := map[string]*stream{}
	for _, role := range []string{"non-member", "member", "admin", "creator"} {
		streams[role] = w.roles[role].open("?after=0", nil)
	}
	w.a.waitConns(4)
	w.creator.post(fmt.Sprintf("/rooms/%d/messages", w.room), url.Values{"body": {"second secret"}}, htmx)
	// Then each gets a line in a room of their own: a marker that everything
	// before it has been delivered.
	for role, b := range w.roles {
		if role != "anonymous" && role != "deactivated" {
			b.createRoom("own room of " + role)
		}
	}
	vault := fmt.Sprintf(`hx-target="#log-%d"`, w.room)
	for role, s := range streams {
		for {
			ev := s.next()
			if !strings.Contains(ev.Data, vault) {
				break // the marker
			}
			if role != "member" && role != "creator" {
				t.Fatalf("%s's stream carried the room: %.120s", role, ev.Data)
			}
		}
	}
}

// Conversations are private: to everyone outside them, admins included,
// they do not exist (404), and nothing of them leaks.
func TestConversationRoutesForEveryRole(t *testing.T) {
	type want map[string]int
	routes := []struct {
		method, path string
		form         url.Values
		want         want
	}{
		{"GET", "/rooms/{dm}", nil, want{"anonymous": 303, "non-member": 404, "member": 200, "admin": 404}},
		{"GET", "/rooms/{dm}/messages?before={before}", nil, want{"anonymous": 303, "non-member": 404, "member": 200, "admin": 404}},
		{"POST", "/rooms/{dm}/messages", url.Values{"body": {"hello"}}, want{"anonymous": 401, "non-member": 404, "member": 303, "admin": 404}},
		{"POST", "/rooms/{dm}/join", nil, want{"anonymous": 401, "non-member": 404, "member": 303, "admin": 404}},
		{"POST", "/rooms/{dm}/leave", nil, want{"anonymous": 401, "non-member": 404, "member": 422, "admin": 404}},
		{"GET", "/rooms/{dm}/members", nil, want{"anonymous": 303, "non-member": 404, "member": 200, "admin": 404}},
		{"POST", "/rooms/{dm}/members/{bob}/remove", nil, want{"anonymous": 401, "non-member": 404, "creator": 403, "admin": 404}},
		{"POST", "/dm", url.Values{"with": {"alice"}}, want{"anonymous": 401, "non-member": 303, "member": 303, "admin": 303}},
		{"GET", "/rooms/{dm}/messages/{msg}", nil, want{"anonymous": 303, "non-member": 404, "member": 200, "admin": 404, "deactivated": 303}},
		{"GET", "/search?q=launch&room={dm}", nil, want{"anonymous": 303, "non-member": 404, "member": 200, "admin": 404, "deactivated": 303}},
		{"GET", "/search?q=launch", nil, want{"non-member": 200, "member": 200, "admin": 200}},
		{"GET", "/sidebar", nil, want{"anonymous": 303, "member": 200}},
		{"GET", "/announcements", nil, want{"anonymous": 303, "member": 200}},
		{"GET", "/announcements/{ann}", nil, want{"anonymous": 303, "non-member": 404, "member": 404, "admin": 404, "creator": 200}},
	}
	for _, rt := range routes {
		for role, status := range rt.want {
			t.Run(fmt.Sprintf("%s %s as %s", rt.method, rt.path, role), func(t *testing.T) {
				w := newAuthzWorld(t)
				dm, err := w.a.store.StartConversation(t.Context(), w.creator.user(), []string{"bob"})
				if err != nil {
					t.Fatal(err)
				}
				m, err := w.a.store.PostMessage(t.Context(), dm.ID, w.creator.user(), secret, "")
				if err != nil {
					t.Fatal(err)
				}
				ann, err := w.a.store.Announce(t.Context(), w.creator.user(), chatTargets("carol"), "notice")
				if err != nil {
					t.Fatal(err)
				}
				path := strings.NewReplacer("{dm}", fmt.Sprint(dm.ID), "{before}", fmt.Sprint(m.ID+1), "{msg}", fmt.Sprint(m.ID),
					"{bob}", fmt.Sprint(w.member.user().ID), "{ann}", fmt.Sprint(ann.ID)).Replace(rt.path)
				b := w.roles[role]
				var res result
				if rt.method == "GET" {
					res = b.get(path, nil)
				} else {
					res = b.post(path, rt.form, nil)
				}
				if res.status != status {
					t.Fatalf("status %d, want %d\n%.300s", res.status, status, res.body)
				}
				if role != "member" && role != "creator" && strings.Contains(res.body, secret) {
					t.Fatal("the conversation leaked")
				}
			})
		}
	}
}

// The directory: everyone signed in reads it; only the person and admins
// change their details; only admins deactivate, make links and import.
func TestPeopleRoutesForEveryRole(t *testing.T) {
	type want map[string]int
	routes := []struct {
		method, path string
		form         url.Values
		want         want
	}{
		{"GET", "/people", nil, want{"anonymous": 303, "other": 200, "self": 200, "admin": 200}},
		{"GET", "/people.csv", nil, want{"anonymous": 303, "other": 200, "admin": 200}},
		{"GET", "/people/bob", nil, want{"anonymous": 303, "other": 200, "self": 200, "admin": 200}},
		{"POST", "/people/bob", url.Values{"title": {"Boss"}}, want{"anonymous": 401, "other": 403, "self": 303, "admin": 303}},
		{"POST", "/people/bob/deactivate", nil, want{"anonymous": 401, "other": 403, "self": 403, "admin": 303}},
		{"POST", "/people/bob/reactivate", nil, want{"anonymous": 401, "other": 403, "self": 403, "admin": 303}},
		{"POST", "/people/bob/link", nil, want{"anonymous": 401, "other": 403, "self": 403, "admin": 303}},
		{"GET", "/people/import", nil, want{"anonymous": 303, "other": 403, "admin": 200}},
		{"POST", "/people/import", nil, want{"anonymous": 401, "other": 403, "admin": 303}},
		{"GET", "/welcome/not-a-token", nil, want{"anonymous": 404, "self": 404}},
		{"POST", "/welcome/not-a-token", url.Values{"password": {"long enough"}}, want{"anonymous": 404}},
	}
	for _, rt := range routes {
		for role, status := range rt.want {
			t.Run(fmt.Sprintf("%s %s as %s", rt.method, rt.path, role), func(t *testing.T) {
				a := newApp(t)
				roles := map[string]*browser{"admin": a.signup("root"), "self": a.signup("bob"), "other": a.signup("carol"), "anonymous": a.browser()}
				b := roles[role]
				var res result
				switch {
				case rt.method == "GET":
					res = b.get(rt.path, nil)
				case rt.path == "/people/import":
					res = b.upload(rt.path, "people.csv", "username,title\nzed,New\n")
				default:
					res = b.post(rt.path, rt.form, nil)
				}
				if res.status != status {
					t.Fatalf("status %d, want %d\n%.300s", res.status, status, res.body)
				}
				p, err := a.store.Person(t.Context(), "bob")
				if err != nil {
					t.Fatal(err)
				}
				if changed := p.Title == "Boss" || p.Deactivated; changed && status >= 400 {
					t.Fatalf("a refused request changed bob: %+v", p)
				}
			})
		}
	}
}

// privateWorld is a private room with a secret message, one person in
// each role, and invite links that work, expired and were revoked.
type privateWorld struct {
	a                       *app
	room                    int64
	roles                   map[string]*browser
	secretID, link          int64
	valid, expired, revoked string
}

func newPrivateWorld(t *testing.T) *privateWorld {
	var ahead atomic.Int64 // how far the store's clock runs ahead
	a := newAppStore(t, hub.Options{}, store.Options{Now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }}, nil, nil)
	w := &privateWorld{a: a}
	root := a.signup("root") // a site admin, not in the room
	alice, bob, carol, dan, erin := a.signup("alice"), a.signup("bob"), a.signup("carol"), a.signup("dan"), a.signup("erin")
	w.room = alice.createPrivate("vault")
	for _, name := range []string{"bob", "erin"} {
		if res := alice.post(fmt.Sprintf("/rooms/%d/members", w.room), url.Values{"username": {name}}, nil); res.status != http.StatusSeeOther {
			t.Fatalf("add %s: %d", name, res.status)
		}
	}
	m, err := a.store.PostMessage(t.Context(), w.room, alice.user(), secret, "")
	if err != nil {
		t.Fatal(err)
	}
	w.secretID = m.ID
	w.valid, w.expired, w.revoked = alice.makeLink(w.room, "720", "0"), alice.makeLink(w.room, "1", "0"), alice.makeLink(w.room, "720", "0")
	valid, err1 := a.store.InviteFor(t.Context(), w.valid, carol.user().ID)
	revoked, err2 := a.store.InviteFor(t.Context(), w.revoked, carol.user().ID)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	w.link = valid.Link.ID
	if err := a.store.RevokeInviteLink(t.Context(), w.room, revoked.Link.ID, alice.user()); err != nil {
		t.Fatal(err)
	}
	// erin is removed after the links were made: none lets her back.
	if res := alice.post(fmt.Sprintf("/rooms/%d/members/%d/remove", w.room, erin.user().ID), nil, nil); res.status != http.StatusSeeOther {
		t.Fatalf("remove erin: %d", res.status)
	}
	ahead.Store(int64(2 * time.Hour)) // the one-hour link has expired
	w.roles = map[string]*browser{"anonymous": a.browser(), "non-member": carol, "invited": dan, "removed": erin,
		"member": bob, "admin": root, "creator": alice}
	return w
}

// A private room does not exist for anyone outside it, site admins
// included: every route answers 404 and shows nothing of it, and no
// refused request changes who is in it. Invite links let in whoever holds
// one that works, but not someone removed after it was made.
func TestPrivateRoomRoutesForEveryRole(t *testing.T) {
	type want map[string]int // role → status
	const out = 404
	routes := []struct {
		method, path string // {room}, {before}, {bob}, {link} and the tokens are filled in
		form         url.Values
		want         want
	}{
		{"GET", "/rooms/{room}", nil, want{"anonymous": 303, "non-member": out, "invited": out, "removed": out, "member": 200, "admin": out, "creator": 200}},
		{"GET", "/rooms/{room}/messages?before={before}", nil, want{"anonymous": 303, "non-member": out, "invited": out, "removed": out, "member": 200, "admin": out}},
		{"POST", "/rooms/{room}/messages", url.Values{"body": {"hello"}}, want{"anonymous": 401, "non-member": out, "invited": out, "removed": out, "member": 303, "admin": out}},
		{"POST", "/rooms/{room}/join", nil, want{"anonymous": 401, "non-member": out, "invited": out, "removed": out, "member": 303, "admin": out}},
		{"POST", "/rooms/{room}/leave", nil, want{"anonymous": 401, "non-member": out, "invited": out, "removed": out, "member": 303, "admin": out, "creator": 303}},
		{"GET", "/rooms/{room}/members", nil, want{"anonymous": 303, "non-member": out, "invited": out, "removed": out, "member": 200, "admin": out, "creator": 200}},
		{"POST", "/rooms/{room}/members/{bob}/remove", nil, want{"anonymous": 401, "non-member": out, "invited": out, "removed": out, "member": 422, "admin": out, "creator": 303}},
		{"GET", "/rooms/{room}/settings", nil, want{"anonymous": 303, "non-member": out, "invited": out, "removed": out, "member": 403, "admin": out, "creator": 200}},
		{"POST", "/rooms/{room}/settings", url.Values{"name": {"vault 2"}, "visibility": {"private"}}, want{"anonymous": 401, "non-member": out, "invited": out, "removed": out, "member": 403, "admin": out, "creator": 303}},
		{"POST", "/rooms/{room}/settings", url.Values{"name": {""}}, want{"non-member": out, "removed": out, "admin": out, "creator": 422}},
		{"POST", "/rooms/{room}/members", url.Values{"username": {"carol"}}, want{"anonymous": 401, "non-member": out, "invited": out, "removed": out, "member": 403, "admin": out, "creator": 303}},
		{"POST", "/rooms/{room}/members/{bob}/admin", nil, want{"anonymous": 401, "non-member": out, "invited": out, "removed": out, "member": 403, "admin": out, "creator": 303}},
		{"POST", "/rooms/{room}/members/{bob}/unadmin", nil, want{"anonymous": 401, "non-member": out, "removed": out, "member": 403, "admin": out, "creator": 303}},
		{"POST", "/rooms/{room}/invites", url.Values{"expires": {"24"}, "uses": {"1"}}, want{"anonymous": 401, "non-member": out, "invited": out, "removed": out, "member": 403, "admin": out, "creator": 303}},
		{"POST", "/rooms/{room}/invites/{link}/revoke", nil, want{"anonymous": 401, "non-member": out, "invited": out, "removed": out, "member": 403, "admin": out, "creator": 303}},
		{"GET", "/rooms/{room}/messages/{secret}", nil, want{"anonymous": 303, "non-member": out, "invited": out, "removed": out, "member": 200, "admin": out, "creator": 200}},
		{"GET", "/search?q=launch&room={room}", nil, want{"anonymous": 303, "non-member": out, "invited": out, "removed": out, "member": 200, "admin": out}},
		{"GET", "/search?q=launch", nil, want{"non-member": 200, "removed": 200, "member": 200, "admin": 200}},
		{"GET", "/rooms/{room}/live", nil, want{"anonymous": 401, "non-member": out, "invited": out, "removed": out, "admin": out}},
		{"GET", "/invite/{valid}", nil, want{"anonymous": 303, "non-member": 200, "invited": 200, "removed": 403, "member": 303, "admin": 200, "creator": 303}},
		{"POST", "/invite/{valid}", nil, want{"anonymous": 401, "non-member": 303, "invited": 303, "removed": 403, "member": 303, "admin": 303}},
		{"GET", "/invite/{expired}", nil, want{"anonymous": 303, "non-member": out, "invited": out, "removed": out, "member": 303, "admin": out}},
		{"POST", "/invite/{expired}", nil, want{"anonymous": 401, "non-member": out, "invited": out, "removed": out, "member": 303, "admin": out}},
		{"GET", "/invite/{revoked}", nil, want{"anonymous": 303, "non-member": out, "invited": out, "removed": out, "admin": out}},
		{"POST", "/invite/{revoked}", nil, want{"anonymous": 401, "non-member": out, "invited": out, "removed": out, "admin": out}},
		{"GET", "/invite/not-a-token", nil, want{"anonymous": 303, "invited": out, "member": out}},
	}
	for _, rt := range routes {
		for role, status := range rt.want {
			t.Run(fmt.Sprintf("%s %s %v as %s", rt.method, rt.path, rt.form, role), func(t *testing.T) {
				w := newPrivateWorld(t)
				path := strings.NewReplacer("{room}", fmt.Sprint(w.room), "{before}", fmt.Sprint(w.secretID+1), "{secret}", fmt.Sprint(w.secretID),
					"{bob}", fmt.Sprint(w.roles["member"].user().ID), "{link}", fmt.Sprint(w.link),
					"{valid}", w.valid, "{expired}", w.expired, "{revoked}", w.revoked).Replace(rt.path)
				b := w.roles[role]
				var wasIn bool
				if role != "anonymous" {
					wasIn, _ = w.a.store.IsMember(t.Context(), w.room, b.user().ID)
				}
				var res result
				if rt.method == "GET" {
					res = b.get(path, nil)
				} else {
					res = b.post(path, rt.form, nil)
				}
				if res.status != status {
					t.Fatalf("status %d, want %d\n%.300s", res.status, status, res.body)
				}
				if role != "member" && role != "creator" && strings.Contains(res.body, secret) {
					t.Fatal("the room's messages leaked")
				}
				if status == out && strings.Contains(res.body, "vault") {
					t.Fatal("a 404 names the room")
				}
				if status >= 400 && role != "anonymous" {
					if in, _ := w.a.store.IsMember(t.Context(), w.room, b.user().ID); in != wasIn {
						t.Fatalf("a refused request changed membership: %v → %v", wasIn, in)
					}
				}
			})
		}
	}
}

// A private room's stream events reach its members only: not people
// holding an invite link, not those removed from it, not site admins.
func TestPrivateRoomStreamsReachMembersOnly(t *testing.T) {
	w := newPrivateWorld(t)
	streams := map[string]*stream{}
	for role, b := range w.roles {
		if role != "anonymous" {
			streams[role] = b.open("?after=0", nil)
		}
	}
	w.a.waitConns(len(streams))
	w.roles["creator"].post(fmt.Sprintf("/rooms/%d/messages", w.room), url.Values{"body": {"second secret"}}, htmx)
	for role, b := range w.roles {
		if role != "anonymous" {
			b.createRoom("own room of " + role) // a marker: all before it was delivered
		}
	}
	vault := fmt.Sprintf(`hx-target="#log-%d"`, w.room)
	for role, s := range streams {
		got := false
		// Streams replay from the start: everything of the vault (and erin's
		// removal), then the marker, the first message from anywhere else.
		for ev := s.next(); strings.Contains(ev.Data, vault) || ev.Name != ""; ev = s.next() {
			if ev.Name != "" { // such as erin's removal; no other's
				if ev.Name == removedEvent && role != "removed" {
					t.Fatalf("%s's stream carried %q", role, ev.Data)
				}
				continue
			}
			got = got || strings.Contains(ev.Data, "second secret")
			if role != "member" && role != "creator" {
				t.Fatalf("%s's stream carried the room: %.120s", role, ev.Data)
			}
		}
		if !got && (role == "member" || role == "creator") {
			t.Fatalf("%s's stream missed the message", role)
		}
	}
}

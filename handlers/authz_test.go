package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
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
	w.roles = map[string]*browser{
		"anonymous": a.browser(), "non-member": w.nonMember, "member": w.member, "admin": w.admin, "creator": w.creator,
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
		{"GET", "/events", nil, false, want{"anonymous": 401}},
		{"GET", "/ws", nil, false, want{"anonymous": 401}},
		{"POST", "/settings/transport", url.Values{"transport": {"ws"}}, false, want{"anonymous": 401, "member": 303}},
		{"POST", "/logout", nil, false, want{"anonymous": 303, "member": 303}},
	}
	for _, rt := range routes {
		for role, status := range rt.want {
			name := fmt.Sprintf("%s %s htmx=%v as %s", rt.method, rt.path, rt.htmx, role)
			t.Run(name, func(t *testing.T) {
				w := newAuthzWorld(t) // fresh, so one case's join or leave cannot affect another
				path := strings.NewReplacer("{room}", fmt.Sprint(w.room), "{before}", fmt.Sprint(w.secretID+1),
					"{bob}", fmt.Sprint(w.member.user().ID)).Replace(rt.path)
				var hdr http.Header
				if rt.htmx {
					hdr = htmx
				}
				b := w.roles[role]
				var res result
				if rt.method == "GET" {
					res = b.get(path, hdr)
				} else {
					res = b.post(path, rt.form, hdr)
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
		if role != "anonymous" {
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
				path := strings.NewReplacer("{dm}", fmt.Sprint(dm.ID), "{before}", fmt.Sprint(m.ID+1),
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
		{"POST", "/people/bob/link", nil, want{"anonymous": 401, "other": 403, "self": 403, "admin": 200}},
		{"GET", "/people/import", nil, want{"anonymous": 303, "other": 403, "admin": 200}},
		{"POST", "/people/import", nil, want{"anonymous": 401, "other": 403, "admin": 200}},
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

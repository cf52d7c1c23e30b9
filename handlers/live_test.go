package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/ratelimit"
)

// liveApp is an app whose hub renders typing and presence events, with
// their flushes driven by the test on a clock the test moves.
type liveApp struct {
	*app
	mu               sync.Mutex
	now              time.Time
	typing, presence chan time.Time
}

func newLiveApp(t *testing.T, change func(*Deps)) *liveApp {
	t.Helper()
	la := &liveApp{now: time.Unix(1_700_000_000, 0), typing: make(chan time.Time), presence: make(chan time.Time)}
	opt := hub.Options{
		RenderTyping: RenderTyping, RenderPresence: RenderPresence,
		TypingTicks: la.typing, PresenceTicks: la.presence, Now: la.clock, AwayAfter: 5 * time.Minute,
	}
	la.app = newAppWith(t, opt, nil, func(d *Deps) {
		d.Live = d.Streams.(Live)
		if change != nil {
			change(d)
		}
	})
	return la
}

func (la *liveApp) clock() time.Time {
	la.mu.Lock()
	defer la.mu.Unlock()
	return la.now
}

func (la *liveApp) advance(d time.Duration) {
	la.mu.Lock()
	defer la.mu.Unlock()
	la.now = la.now.Add(d)
}

// flush runs one flush to its end: the loop takes the second tick only
// once it is done with the first.
func flush(ticks chan time.Time) {
	ticks <- time.Time{}
	ticks <- time.Time{}
}

// until reads s until an event named name arrives and returns it.
func (s *stream) until(name string) string {
	s.t.Helper()
	for {
		if ev := s.next(); ev.Name == name {
			return ev.Data
		}
	}
}

// sentinelAhead posts a message as b in room and checks that it is the next
// event each stream gets: nothing else came first.
func sentinelAhead(t *testing.T, b *browser, room int64, text string, streams ...*stream) {
	t.Helper()
	b.post(fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {text}}, htmx)
	for i, s := range streams {
		if ev := s.next(); ev.Name != "" || !strings.Contains(ev.Data, text) {
			t.Fatalf("stream %d got %q %q before the sentinel %q", i, ev.Name, ev.Data, text)
		}
	}
}

// Typing needs membership: a member's signal reaches the room's members
// (the typist's own page too: it leaves itself out), rendered once; a
// non-member's is refused, 403 for a public room and 404 for a
// conversation, and nobody hears it; neither reaches other rooms.
func TestTypingReachesTheRoomsMembersOnly(t *testing.T) {
	la := newLiveApp(t, nil)
	alice, bob, carol := la.signup("alice"), la.signup("bob"), la.signup("carol")
	room := alice.createRoom("general")
	bob.post(fmt.Sprintf("/rooms/%d/join", room), nil, nil)
	other := carol.createRoom("elsewhere")
	dm := alice.post("/dm", url.Values{"with": {"bob"}}, nil).location
	as, bs, cs := alice.open("", nil), bob.open("", nil), carol.open("", nil)
	la.waitConns(3) // presence is not flushed in this test: only typing is sent

	if res := carol.post(fmt.Sprintf("/rooms/%d/typing", room), nil, htmx); res.status != http.StatusForbidden {
		t.Fatalf("non-member typing in a room: %d, want 403", res.status)
	}
	if res := carol.post(dm+"/typing", nil, htmx); res.status != http.StatusNotFound {
		t.Fatalf("non-member typing in a conversation: %d, want 404", res.status)
	}
	flush(la.typing)
	sentinelAhead(t, alice, room, "nobody typed", as, bs)

	if res := bob.post(fmt.Sprintf("/rooms/%d/typing", room), nil, htmx); res.status != http.StatusNoContent {
		t.Fatalf("member typing: %d %s", res.status, res.body)
	}
	flush(la.typing)
	ea, eb := as.next(), bs.next()
	if ea.Name != hub.TypingEvent || ea.Data != eb.Data {
		t.Fatalf("alice got %+v, bob got %+v: want the same typing event", ea, eb)
	}
	mustContain(t, ea.Data, fmt.Sprintf(`<ul data-room="%d" data-count="1">`, room), fmt.Sprintf(`<li data-user="%d">bob</li>`, bob.user().ID))
	if ea.IntID() == 0 {
		t.Fatalf("typing event id %q: want the newest message id", ea.ID)
	}
	sentinelAhead(t, carol, other, "carol in her own room", cs)

	// Sending the message ends the typing at the next flush.
	bob.post(fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {"done typing"}}, htmx)
	flush(la.typing)
	if data := as.until(hub.TypingEvent); !strings.Contains(data, `data-count="0"`) {
		t.Fatalf("after sending: %q", data)
	}
}

// The typing endpoint is rate-limited per user, beyond what a page sends.
func TestTypingIsRateLimited(t *testing.T) {
	la := newLiveApp(t, func(d *Deps) { d.Limits.Typing = ratelimit.New(0.001, 2) })
	alice := la.signup("alice")
	room := alice.createRoom("general")
	for i, want := range []int{204, 204, 429} {
		res := alice.post(fmt.Sprintf("/rooms/%d/typing", room), nil, htmx)
		if res.status != want {
			t.Fatalf("signal %d: %d, want %d", i, res.status, want)
		}
		if want == 429 && res.header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
}

// Presence events reach the members of the rooms a person is in, and
// nobody else; activity brings an away person back.
func TestPresenceReachesTheRightPeople(t *testing.T) {
	la := newLiveApp(t, nil)
	alice, bob, carol, dave := la.signup("alice"), la.signup("bob"), la.signup("carol"), la.signup("dave")
	room := alice.createRoom("general")
	bob.post(fmt.Sprintf("/rooms/%d/join", room), nil, nil)
	other := carol.createRoom("elsewhere")
	as, cs := alice.open("", nil), carol.open("", nil)
	la.waitConns(2)
	flush(la.presence)
	as.until(hub.PresenceEvent)
	cs.until(hub.PresenceEvent)

	bs := bob.open("", nil)
	la.waitConns(3)
	flush(la.presence)
	bobID := bob.user().ID
	want := fmt.Sprintf(`<li data-presence="online" data-users="%d"></li>`, bobID)
	if data := as.until(hub.PresenceEvent); !strings.Contains(data, want) {
		t.Fatalf("alice got %q, want bob online only", data)
	}
	bs.until(hub.PresenceEvent)
	sentinelAhead(t, carol, other, "carol saw nothing", cs)
	dave.get("/rooms", nil) // dave shares no room with anyone

	// Five minutes without activity: away. bob reads without posting, his
	// page reports activity: online again.
	la.advance(5 * time.Minute)
	flush(la.presence)
	if data := as.until(hub.PresenceEvent); !strings.Contains(data, fmt.Sprintf(`<li data-presence="away" data-users="%d %d">`, alice.user().ID, bobID)) {
		t.Fatalf("want bob away, got %q", data)
	}
	bs.until(hub.PresenceEvent)
	if data := cs.until(hub.PresenceEvent); data != fmt.Sprintf(`<ul data-room="%d"><li data-presence="away" data-users="%d"></li></ul>`, other, carol.user().ID) {
		t.Fatalf("carol got %q: want only herself away", data)
	}
	if res := bob.post("/activity", nil, htmx); res.status != http.StatusNoContent {
		t.Fatalf("activity: %d", res.status)
	}
	flush(la.presence)
	if data := as.until(hub.PresenceEvent); !strings.Contains(data, want) {
		t.Fatalf("want bob back online, got %q", data)
	}
	sentinelAhead(t, carol, other, "still nothing for carol", cs)

	// The members page shows each member's presence as rendered now.
	page := alice.get(fmt.Sprintf("/rooms/%d/members", room), nil)
	mustContain(t, page.body, fmt.Sprintf(`data-presence-of="%d" data-presence="online"`, bobID))
}

// Reporting activity needs a sign-in, like every other post.
func TestActivityNeedsASession(t *testing.T) {
	la := newLiveApp(t, nil)
	if res := la.browser().post("/activity", nil, htmx); res.status != http.StatusUnauthorized {
		t.Fatalf("anonymous activity: %d, want 401", res.status)
	}
	alice := la.signup("alice")
	if res := alice.post("/activity", nil, nil); res.status != http.StatusNoContent {
		t.Fatalf("activity: %d", res.status)
	}
}

// A direct conversation in the sidebar carries the other person's
// presence; the directory shows everyone's.
func TestSidebarAndDirectoryShowPresence(t *testing.T) {
	la := newLiveApp(t, func(d *Deps) { d.Peers = d.Store.(DirectPeers) })
	alice, bob := la.signup("alice"), la.signup("bob")
	dm := alice.post("/dm", url.Values{"with": {"bob"}}, nil).location
	bob.open("", nil)
	la.waitConns(1)
	flush(la.presence) // pages show presence as last published
	bobID := bob.user().ID
	page := alice.get(dm, nil)
	mustContain(t, page.body, fmt.Sprintf(`data-presence-of="%d" data-presence="online" title="Online"`, bobID),
		fmt.Sprintf(`id="typing-%s"`, strings.TrimPrefix(dm, "/rooms/")))
	people := alice.get("/people", nil)
	mustContain(t, people.body, fmt.Sprintf(`data-presence-of="%d" data-presence="online"`, bobID),
		fmt.Sprintf(`data-presence-of="%d" data-presence="offline"`, alice.user().ID)) // no stream of hers is open
}

// Light mode is saved to the account, marks every page (the page script
// then sends no typing signals), and stops typing events on the person's
// open stream at once; turning it off brings them back.
func TestLightModeIsSavedAndStopsTypingAtOnce(t *testing.T) {
	la := newLiveApp(t, nil)
	alice, bob := la.signup("alice"), la.signup("bob")
	room := alice.createRoom("general")
	bob.post(fmt.Sprintf("/rooms/%d/join", room), nil, nil)
	bs := bob.open("", nil)
	la.waitConns(1)

	if res := bob.post("/settings/light", url.Values{"light": {"maybe"}}, nil); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("light=maybe: %d, want 422", res.status)
	}
	if res := bob.post("/settings/light", url.Values{"light": {"on"}, "next": {"/people"}}, nil); res.status != http.StatusSeeOther || res.location != "/people" {
		t.Fatalf("light=on: %d %q, want 303 to /people", res.status, res.location)
	}
	if !bob.user().Light {
		t.Fatal("light mode not saved")
	}
	page := bob.get("/rooms", nil).body
	mustContain(t, page, `data-light`, `name="light" value="off"`)
	if strings.Contains(alice.get("/rooms", nil).body, "data-light") {
		t.Fatal("alice's page is marked light too")
	}
	alice.post(fmt.Sprintf("/rooms/%d/typing", room), nil, htmx)
	flush(la.typing)
	sentinelAhead(t, alice, room, "no typing for bob", bs)

	bob.post("/settings/light", url.Values{"light": {"off"}}, nil)
	if bob.user().Light || strings.Contains(bob.get("/rooms", nil).body, "data-light") {
		t.Fatal("light mode still on")
	}
	alice.post(fmt.Sprintf("/rooms/%d/typing", room), nil, htmx)
	flush(la.typing)
	if data := bs.until(hub.TypingEvent); !strings.Contains(data, "alice") {
		t.Fatalf("typing after light mode off: %q", data)
	}
}

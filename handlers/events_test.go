package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/internal/attack"
	"github.com/rtmessenger/rtmessenger/internal/sseclient"
	"github.com/rtmessenger/rtmessenger/store"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

type stream struct {
	t    *testing.T
	resp *http.Response
	bg   *sseclient.Background
}

// open connects b's event stream; header may carry Last-Event-ID. What was
// committed before goes out first (settle), so the stream starts at "now".
func (b *browser) open(query string, header http.Header) *stream {
	b.a.t.Helper()
	b.a.settle()
	return b.openNow(query, header)
}

// openNow is open without settling: a stream that connects while the
// relay may still be publishing earlier commits.
func (b *browser) openNow(query string, header http.Header) *stream {
	b.a.t.Helper()
	req, _ := http.NewRequest("GET", b.a.srv.URL+"/events"+query, nil)
	// A plain stream, unless a test asks otherwise: Go's client, reading
	// a gzip body, makes closing it wait for the next event.
	req.Header.Set("Accept-Encoding", "identity")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.a.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b.a.t.Fatalf("open stream: %s", resp.Status)
	}
	s := &stream{t: b.a.t, resp: resp, bg: sseclient.Read(resp.Body)}
	b.a.t.Cleanup(s.close)
	return s
}

func (s *stream) close() { s.resp.Body.Close() }

// streamWait bounds each wait for a stream event or connection count. It
// is generous because it only decides how soon a broken test fails: a
// machine running other tests beside these (-race, 150 streams) is slow.
const streamWait = 20 * time.Second

func (s *stream) next() sseclient.Event {
	s.t.Helper()
	ev, err := s.bg.Next(streamWait)
	if err != nil {
		s.t.Fatalf("next event: %v", err)
	}
	return ev
}

func (a *app) waitConns(n int) {
	a.t.Helper()
	deadline := time.Now().Add(streamWait)
	for {
		_, c := a.hub.Stats()
		if c == n {
			return
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("want %d stream connections, have %d after %v", n, c, streamWait)
		}
		time.Sleep(5 * time.Millisecond) // the polling interval
	}
}

func TestStreamCarriesRenderedFragmentsToMembersOnly(t *testing.T) {
	a := newApp(t)
	alice, bob, carol := a.signup("alice"), a.signup("bob"), a.signup("carol")
	room := alice.createRoom("general")
	bob.post(fmt.Sprintf("/rooms/%d/join", room), nil, nil)
	other := carol.createRoom("elsewhere")
	as, bs, cs := alice.open("", nil), bob.open("", nil), carol.open("", nil)
	a.waitConns(3)

	alice.post(fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {"hello <you>"}}, htmx)
	m, _, err := a.store.History(t.Context(), room, 0, 1)
	if err != nil || len(m) != 1 {
		t.Fatal(m, err)
	}
	id := m[0].ID
	ea, eb := as.next(), bs.next()
	if ea.IntID() != id || ea.Data != eb.Data {
		t.Fatalf("alice got %+v, bob got %+v: want the same bytes, id %d", ea, eb, id)
	}
	mustContain(t, ea.Data, fmt.Sprintf(`<hx-upsert hx-target="#log-%d" sort>`, room),
		fmt.Sprintf(`<li id="msg-%d"`, id), "hello &lt;you&gt;")

	carol.post(fmt.Sprintf("/rooms/%d/messages", other), url.Values{"body": {"mine"}}, htmx)
	if ev := cs.next(); !strings.Contains(ev.Data, "mine") {
		t.Fatalf("carol's first event should be her own room's, got %+v", ev)
	}

	// A join line also updates the member count shown on open pages.
	carol.post(fmt.Sprintf("/rooms/%d/join", room), nil, nil)
	ev := as.next()
	mustContain(t, ev.Data, "carol</strong> joined the room",
		fmt.Sprintf(`<hx-partial hx-target="#members-%d" hx-swap="textContent">3 members</hx-partial>`, room))
}

func TestStreamReplaysWhatWasMissed(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := alice.createRoom("general")
	post := func(body string) int64 {
		m, err := a.store.PostMessage(t.Context(), room, alice.user(), body, "")
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	first := post("before")
	var missed []int64
	for i := range 3 {
		missed = append(missed, post(fmt.Sprint("missed ", i)))
	}
	for _, open := range []func() *stream{
		func() *stream { return alice.open("", http.Header{"Last-Event-ID": {fmt.Sprint(first)}}) },
		func() *stream { return alice.open(fmt.Sprintf("?after=%d", first), nil) },
		// A reconnect's Last-Event-ID wins over the page's ?after=.
		func() *stream { return alice.open("?after=0", http.Header{"Last-Event-ID": {fmt.Sprint(first)}}) },
	} {
		s := open()
		for _, want := range missed {
			if ev := s.next(); ev.IntID() != want {
				t.Fatalf("replay gave id %s, want %d", ev.ID, want)
			}
		}
		s.close()
	}
}

func TestStreamResetsWhenReplayIsImpossible(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := alice.createRoom("general")
	for i := range 25 { // more than the test's replay limit of 20
		if _, err := a.store.PostMessage(t.Context(), room, alice.user(), fmt.Sprint(i), ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, lastID := range []string{"1", "not-a-number", "-5", "999999"} {
		s := alice.open("", http.Header{"Last-Event-ID": {lastID}})
		if ev := s.next(); ev.Name != "rtm-reset" {
			t.Fatalf("Last-Event-ID %q: got %+v, want a reset", lastID, ev)
		}
		s.close()
	}
}

func TestStreamNeedsARealSession(t *testing.T) {
	a := newApp(t)
	a.signup("alice")
	forged := a.browser()
	u, _ := url.Parse(a.srv.URL)
	forged.c.Jar.SetCookies(u, []*http.Cookie{{Name: "rtm_session", Value: "made-up-token"}})
	if res := forged.get("/events", nil); res.status != http.StatusUnauthorized {
		t.Fatalf("unknown session: %d, want 401", res.status)
	}
}

// Leaving, or being removed, ends the room's delivery at once: the stream is
// cut, and the resumed one carries the user's remaining rooms only.
func TestLeavingOrRemovalStopsTheRoomOnTheStream(t *testing.T) {
	for _, how := range []string{"leave", "removal"} {
		t.Run(how, func(t *testing.T) { testRoomStopsOnStream(t, how) })
	}
}

func testRoomStopsOnStream(t *testing.T, how string) {
	a := newApp(t)
	alice, bob := a.signup("alice"), a.signup("bob")
	shared := alice.createRoom("shared")
	own := bob.createRoom("own")
	bob.post(fmt.Sprintf("/rooms/%d/join", shared), nil, nil)
	bs := bob.open("", nil)
	a.waitConns(1)
	last, err := a.store.LatestID(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if how == "leave" {
		bob.post(fmt.Sprintf("/rooms/%d/leave", shared), nil, nil)
	} else {
		res := alice.post(fmt.Sprintf("/rooms/%d/members/%d/remove", shared, bob.user().ID), nil, nil)
		if res.status != http.StatusSeeOther {
			t.Fatalf("remove: %d %s", res.status, res.body)
		}
	}
	if !bs.bg.Ended(5 * time.Second) {
		t.Fatal("the stream was not cut")
	}
	alice.post(fmt.Sprintf("/rooms/%d/messages", shared), url.Values{"body": {"after bob left"}}, htmx)
	bs = bob.open("", http.Header{"Last-Event-ID": {fmt.Sprint(last)}})
	bob.post(fmt.Sprintf("/rooms/%d/messages", own), url.Values{"body": {"only bob sees this"}}, htmx)
	for {
		ev := bs.next()
		if strings.Contains(ev.Data, "after bob left") {
			t.Fatal("bob still receives a room he left")
		}
		if strings.Contains(ev.Data, "only bob sees this") {
			return
		}
	}
}

// Message text that looks like SSE fields must arrive as one event carrying
// exactly that text, never as forged ids, names or extra events.
func TestTextCannotForgeStreamFields(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := alice.createRoom("general")
	s := alice.open("", nil)
	a.waitConns(1)
	for _, payload := range attack.SSE {
		alice.post(fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {payload}}, htmx)
		want, _ := chat.CleanMessage(payload)
		ev := s.next()
		msgs, _, _ := a.store.History(t.Context(), room, 0, 1)
		if ev.Name != "" || ev.IntID() != msgs[0].ID {
			t.Fatalf("payload %q: event %q id %s, want an unnamed event with id %d", payload, ev.Name, ev.ID, msgs[0].ID)
		}
		if got := bodyText(t, ev.Data); got != want {
			t.Fatalf("payload %q arrived as %q", payload, got)
		}
	}
}

// bodyText parses a stream fragment and returns its one message's text.
func bodyText(t *testing.T, fragment string) string {
	t.Helper()
	nodes, err := html.ParseFragment(strings.NewReader(fragment), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, n := range nodes {
		for d := range n.Descendants() {
			if d.Type == html.ElementNode && d.Data == "div" && hasClass(d, "body") {
				var sb strings.Builder
				for c := range d.Descendants() {
					if c.Type == html.TextNode {
						sb.WriteString(c.Data)
					}
				}
				bodies = append(bodies, sb.String())
			}
		}
	}
	if len(bodies) != 1 {
		t.Fatalf("fragment holds %d message bodies: %s", len(bodies), fragment)
	}
	return bodies[0]
}

func hasClass(n *html.Node, class string) bool {
	for _, a := range n.Attr {
		if a.Key == "class" && slices.Contains(strings.Fields(a.Val), class) {
			return true
		}
	}
	return false
}

// With several nodes (Deps.ReplayFrom) a resumed stream is replayed from
// before its resume point: another node's older event may have reached
// this node after the newer one the page saw last.
func TestStreamReplayReachesBackWhenNodesShareTheWork(t *testing.T) {
	a, later := nodesApp(t)
	alice := a.signup("alice")
	room := alice.createRoom("general")
	var ids []int64
	for i := range 3 { // a second apart
		later(time.Second)
		m, err := a.store.PostMessage(t.Context(), room, alice.user(), fmt.Sprint("m", i), "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	s := alice.open("", http.Header{"Last-Event-ID": {fmt.Sprint(ids[2])}})
	for _, want := range ids[1:] { // from the last made 1.5 s before the resume point
		if ev := s.next(); ev.IntID() != want {
			t.Fatalf("replay gave id %s, want %d", ev.ID, want)
		}
	}
}

// A floor that reaches back past more than a replay holds (the bus down
// since long ago moves it back to then) does not make the page reload:
// the client's own resume point is taken instead, or every reload would
// meet the same floor and reload again.
func TestAFloorPastTheReplayLimitDoesNotReloadThePage(t *testing.T) {
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) {
		d.ReplayFrom = func(made time.Time) time.Time { return made.Add(-time.Hour) }
	})
	alice := a.signup("alice")
	room := alice.createRoom("general")
	var last int64
	for i := range 25 { // more than the test's replay limit of 20
		m, err := a.store.PostMessage(t.Context(), room, alice.user(), fmt.Sprint("m", i), "")
		if err != nil {
			t.Fatal(err)
		}
		last = m.ID
	}
	s := alice.open(fmt.Sprintf("?after=%d", last), nil)
	m, err := a.store.PostMessage(t.Context(), room, alice.user(), "live", "")
	if err != nil {
		t.Fatal(err)
	}
	if ev := s.next(); ev.IntID() != m.ID {
		t.Fatalf("a page rendered at the newest message got %+v first, want the next message, %d", ev, m.ID)
	}
}

// Where only this stream's floor holds more than a replay does (it was
// away long), and a freshly loaded page's would not, the stream resets
// and the page reloads rather than skipping what the floor is for.
func TestAFloorPastTheReplayLimitResetsWhenAReloadHelps(t *testing.T) {
	a, later := nodesApp(t)
	alice := a.signup("alice")
	room := alice.createRoom("general")
	var own int64
	for i := range 25 { // more than the test's replay limit of 20, all at once
		m, err := a.store.PostMessage(t.Context(), room, alice.user(), fmt.Sprint("m", i), "")
		if err != nil {
			t.Fatal(err)
		}
		own = m.ID
	}
	later(10 * time.Second)
	if _, err := a.store.PostMessage(t.Context(), room, alice.user(), "later", ""); err != nil {
		t.Fatal(err)
	}
	s := alice.open("", http.Header{"Last-Event-ID": {fmt.Sprint(own)}})
	if ev := s.next(); ev.Name != "rtm-reset" {
		t.Fatalf("a stream whose floor holds too much, where a reload would not, got %+v first; want a reset", ev)
	}
}

// nodesApp is an app whose replay reaches back 1.5 s before a resume
// point, as with several nodes, on a store clock that later moves.
func nodesApp(t *testing.T) (a *app, later func(time.Duration)) {
	t.Helper()
	var mu sync.Mutex
	clock := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	a = newAppStore(t, hub.Options{}, store.Options{Now: now}, nil, func(d *Deps) {
		d.ReplayFrom = func(made time.Time) time.Time { return made.Add(-1500 * time.Millisecond) }
	})
	return a, func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(d)
	}
}

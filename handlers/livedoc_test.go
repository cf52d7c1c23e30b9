package handlers

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/internal/docstream"
)

// docStart is how a live log document's start ends: chunks follow it.
const docStart = `aria-label="New messages">`

// openLive opens b's live log document of room (query: "?after=N") and
// reads it in the background. What was committed before is published
// first (see open).
func (b *browser) openLive(room int64, query string) (*http.Response, *docstream.Reader) {
	b.a.t.Helper()
	b.a.settle()
	resp, err := b.c.Get(fmt.Sprintf("%s/rooms/%d/live%s", b.a.srv.URL, room, query))
	if err != nil {
		b.a.t.Fatal(err)
	}
	b.a.t.Cleanup(func() { resp.Body.Close() })
	return resp, docstream.Read(resp.Body)
}

// sayID posts a message as b (say) and returns its id.
func (b *browser) sayID(room int64, text string) int64 {
	b.a.t.Helper()
	b.say(room, text)
	m, _, err := b.a.store.History(b.a.t.Context(), room, 0, 1)
	if err != nil || len(m) != 1 {
		b.a.t.Fatal(m, err)
	}
	return m[0].ID
}

var docItem = regexp.MustCompile(`<li id="msg-(\d+)"`)

// docIDs lists the messages a live log document shows, in its order.
func docIDs(text string) []int64 {
	var ids []int64
	for _, m := range docItem.FindAllStringSubmatch(text, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		ids = append(ids, id)
	}
	return ids
}

// The document shows each new message of its room as it is posted, a
// heartbeat as a comment, and nothing else: not what the page around it
// shows already, not other rooms, not changes to messages.
func TestLiveDocShowsTheRoomsNewMessages(t *testing.T) {
	ticks := make(chan time.Time)
	a := newAppWith(t, hub.Options{HeartbeatTicks: ticks}, nil, nil)
	alice, bob := a.signup("alice"), a.signup("bob")
	room, other := alice.createRoom("general"), alice.createRoom("elsewhere")
	for _, r := range []int64{room, other} {
		bob.join(r)
	}
	before := alice.sayID(room, "on the page already")

	resp, doc := bob.openLive(room, fmt.Sprintf("?after=%d", before))
	for header, want := range map[string]string{
		"Content-Type":    "text/html; charset=utf-8",
		"Cache-Control":   "no-store",
		"X-Frame-Options": "SAMEORIGIN",
	} {
		if got := resp.Header.Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy: %q", csp)
	}
	start := doc.WaitFor(t, docStart, streamWait)
	if !strings.Contains(start, `<meta http-equiv="refresh" content="3">`) {
		t.Errorf("the document does not come back after a cut:\n%s", start)
	}
	a.waitConns(1)

	hello := alice.sayID(room, "hello <b>bob</b>")
	text := doc.WaitFor(t, fmt.Sprintf(`<li id="msg-%d"`, hello), streamWait)
	mustContain(t, text, "hello &lt;b&gt;bob&lt;/b&gt;")
	hi := alice.sayID(room, "hi")
	// The shortest message, for its cost: the document gets the bytes of
	// its list item, as every transport does, and nothing around them.
	withHi := doc.WaitFor(t, fmt.Sprintf(`<li id="msg-%d"`, hi), streamWait)
	t.Logf(`a message "hi" costs %d bytes in the document`, len(withHi)-len(text))

	alice.sayID(other, "in another room")
	alice.post(fmt.Sprintf("/rooms/%d/messages/%d/edit", room, hello), url.Values{"body": {"hello again"}}, nil)
	alice.post(fmt.Sprintf("/rooms/%d/messages/%d/reactions", room, hello), url.Values{"emoji": {"👍"}}, nil)
	last := alice.sayID(room, "sentinel")
	text = doc.WaitFor(t, "sentinel", streamWait)
	if got := docIDs(text); !slices.Equal(got, []int64{hello, hi, last}) {
		t.Errorf("document shows messages %v, want %v", got, []int64{hello, hi, last})
	}
	mustNotContain(t, text, "on the page already", "in another room", "hello again", "👍")

	ticks <- time.Now()
	doc.WaitFor(t, "</li><!--hb-->", streamWait)
}

// Typing and presence reach the user's stream, not the document.
func TestLiveDocLeavesTypingOut(t *testing.T) {
	la := newLiveApp(t, nil)
	alice, bob := la.signup("alice"), la.signup("bob")
	room := alice.createRoom("general")
	bob.join(room)
	_, doc := bob.openLive(room, "")
	doc.WaitFor(t, docStart, streamWait)
	la.waitConns(1)
	alice.post(fmt.Sprintf("/rooms/%d/typing", room), nil, htmx)
	flush(la.typing) // published to bob before the sentinel
	alice.sayID(room, "sentinel")
	text := doc.WaitFor(t, "sentinel", streamWait)
	mustNotContain(t, text[strings.Index(text, docStart):], "typing")
}

// Reloaded, the document shows again everything newer than ?after=,
// each message once, edited ones too.
func TestLiveDocResumesAfterTheGivenID(t *testing.T) {
	a := newApp(t)
	alice, bob := a.signup("alice"), a.signup("bob")
	room := alice.createRoom("general")
	bob.join(room)
	seen := alice.sayID(room, "seen")
	missed1, missed2 := alice.sayID(room, "missed 1"), alice.sayID(room, "missed 2")
	alice.post(fmt.Sprintf("/rooms/%d/messages/%d/edit", room, missed1), url.Values{"body": {"missed 1, edited"}}, nil)

	_, doc := bob.openLive(room, fmt.Sprintf("?after=%d", seen))
	doc.WaitFor(t, "missed 2", streamWait)
	a.waitConns(1)
	live := alice.sayID(room, "live")
	text := doc.WaitFor(t, ">live<", streamWait)
	// The edited message replays at its edit, after the one posted later.
	if got, want := docIDs(text), []int64{missed2, missed1, live}; !slices.Equal(got, want) {
		t.Fatalf("document shows %v, want %v", got, want)
	}
	mustContain(t, text, "missed 1, edited")
	mustNotContain(t, text, ">seen<")
}

// Only the room's members get its document; everyone else gets a
// document that the page may frame, saying no more than the room's page
// would, and no stream.
func TestLiveDocIsForMembersOnly(t *testing.T) {
	a := newApp(t)
	alice, carol := a.signup("alice"), a.signup("carol")
	room := alice.createRoom("general")
	for _, tc := range []struct {
		who    *browser
		path   string
		status int
		says   string
	}{
		{carol, fmt.Sprintf("/rooms/%d/live", room), http.StatusNotFound, "No such room."},
		{alice, "/rooms/999/live", http.StatusNotFound, "No such room."},
		{a.browser(), fmt.Sprintf("/rooms/%d/live", room), http.StatusUnauthorized,
			fmt.Sprintf(`You have been signed out. <a href="/login?next=%%2Frooms%%2F%d">Log in</a>`, room)},
	} {
		res := tc.who.get(tc.path, nil)
		if res.status != tc.status || !strings.Contains(res.body, tc.says) {
			t.Errorf("%s: %d, want %d saying %q:\n%s", tc.path, res.status, tc.status, tc.says, res.body)
		}
		if !strings.Contains(res.header.Get("Content-Security-Policy"), "frame-ancestors 'self'") || res.header.Get("X-Frame-Options") != "SAMEORIGIN" {
			t.Errorf("%s: the page may not frame the answer: %v", tc.path, res.header)
		}
		mustNotContain(t, res.body, "http-equiv") // nothing to come back for
	}
	a.waitConns(0)
}

// A document nobody reads is cut like any stalled stream. Loaded again
// from the same ?after= (as its refresh does), it shows every message
// since, none missing, none twice.
func TestLiveDocStalledReaderIsCutAndResumes(t *testing.T) {
	a := newAppWith(t, hub.Options{QueueSize: 4, WriteTimeout: time.Second},
		func(l net.Listener) net.Listener { return smallSendBuffers{l} },
		func(d *Deps) { d.ReplayLimit = 100000 })
	alice, bob := a.signup("alice"), a.signup("bob")
	room := alice.createRoom("busy")
	bob.join(room)
	after := alice.sayID(room, "before")
	stalled := openStalledLive(t, a, bob, room, after)
	a.waitConns(1)

	var posted []int64
	for len(posted) < 2000 {
		posted = append(posted, alice.sayID(room, fmt.Sprintf("n=%d %s", len(posted), strings.Repeat("x", 1000))))
		if _, conns := a.hub.Stats(); conns == 0 {
			break
		}
	}
	if _, conns := a.hub.Stats(); conns != 0 {
		t.Fatalf("the stalled document was never cut, after %d messages", len(posted))
	}
	got := stalled.drainDoc(t)
	mustContain(t, got, `<meta http-equiv="refresh" content="3">`) // the browser comes back
	t.Logf("cut after %d messages, %d of them shown before the cut", len(posted), len(docIDs(got)))

	_, doc := bob.openLive(room, fmt.Sprintf("?after=%d", after))
	text := doc.WaitFor(t, fmt.Sprintf(`<li id="msg-%d"`, posted[len(posted)-1]), streamWait)
	if ids := docIDs(text); !slices.Equal(ids, posted) {
		t.Fatalf("reloaded document shows %d messages, want the %d posted since, in order", len(ids), len(posted))
	}
}

// openStalledLive requests b's live log document of room on a raw
// connection that then reads nothing until drained.
func openStalledLive(t *testing.T, a *app, b *browser, room, after int64) *stalledStream {
	t.Helper()
	a.settle()
	u, _ := url.Parse(a.srv.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	t.Cleanup(func() { conn.Close() })
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/rooms/%d/live?after=%d", a.srv.URL, room, after), nil)
	for _, c := range b.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	return &stalledStream{conn: conn, req: req}
}

// drainDoc reads the document that reached a stalled connection before its cut.
func (s *stalledStream) drainDoc(t *testing.T) string {
	t.Helper()
	s.conn.SetReadDeadline(time.Now().Add(streamWait))
	resp, err := http.ReadResponse(bufio.NewReader(s.conn), s.req)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	_, err = bufio.NewReader(resp.Body).WriteTo(&b)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the stalled document did not end")
	}
	return b.String()
}

// A document that is refused, or whose session ends, says so and does
// not ask to be loaded again.
func TestLiveDocSaysWhyItEnds(t *testing.T) {
	a := newAppWith(t, hub.Options{MaxConnsPerSession: 1}, nil, nil)
	alice, bob := a.signup("alice"), a.signup("bob")
	room := alice.createRoom("general")
	bob.join(room)

	bob.open("", nil) // the one stream this browser may hold
	a.waitConns(1)
	_, refused := bob.openLive(room, "")
	if !refused.Ended(streamWait) {
		t.Fatal("a refused document must end")
	}
	text := refused.Text()
	mustContain(t, text, docStart+`<li class="msg system">Live updates are off in this tab`)
	mustNotContain(t, text, "http-equiv")

	_, hers := alice.openLive(room, "")
	hers.WaitFor(t, docStart, streamWait)
	a.waitConns(2)
	alice.post("/logout", nil, nil)
	if !hers.Ended(streamWait) {
		t.Fatal("the document outlived its session")
	}
	mustContain(t, hers.Text(), fmt.Sprintf(`You have been signed out. <a href="/login?next=%%2Frooms%%2F%d">Log in</a></li>`, room))
}

// The document never ends by itself, and the browser keeps all of it: past
// its most messages it asks for a reload (which brings a fresh page and
// frame) and shows no more.
func TestLiveDocAsksForAReloadPastItsMostMessages(t *testing.T) {
	ticks := make(chan time.Time)
	a := newAppWith(t, hub.Options{HeartbeatTicks: ticks}, nil, func(d *Deps) { d.LiveDocMessages = 3 })
	alice, bob := a.signup("alice"), a.signup("bob")
	room := alice.createRoom("general")
	bob.join(room)
	_, doc := bob.openLive(room, "")
	doc.WaitFor(t, docStart, streamWait)
	a.waitConns(1)
	var ids []int64
	for i := range 5 {
		ids = append(ids, alice.sayID(room, fmt.Sprintf("message %d", i)))
	}
	// Everything posted is queued to the document before the heartbeat
	// that follows it: the comment marks the end of what it was sent.
	a.settle()
	ticks <- time.Now()
	text := doc.WaitFor(t, "<!--hb-->", streamWait)
	mustContain(t, text, fmt.Sprintf(`This frame shows no more new messages. <a href="/rooms/%d">Reload the page</a></li>`, room))
	if got := docIDs(text); !slices.Equal(got, ids[:3]) {
		t.Fatalf("document shows messages %v, want %v and no more", got, ids[:3])
	}
}

// Over HTTP/2 (no connection to take over) the document is the same.
func TestLiveDocOverHTTP2(t *testing.T) {
	a := newApp(t)
	alice := a.signup("alice")
	room := alice.createRoom("general")
	h2 := httptest.NewUnstartedServer(a.srv.Config.Handler)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	t.Cleanup(h2.Close)
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(h2.URL)
	plain, _ := url.Parse(a.srv.URL)
	jar.SetCookies(u, alice.c.Jar.Cookies(plain))
	client := h2.Client()
	client.Jar = jar

	a.settle()
	resp, err := client.Get(fmt.Sprintf("%s/rooms/%d/live", h2.URL, room))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.ProtoMajor != 2 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Fatalf("%s over %s: %v", resp.Status, resp.Proto, resp.Header)
	}
	doc := docstream.Read(resp.Body)
	doc.WaitFor(t, docStart, streamWait)
	a.waitConns(1)
	id := alice.sayID(room, "over h2")
	doc.WaitFor(t, fmt.Sprintf(`<li id="msg-%d"`, id), streamWait)
}

// A message a replay holds back (edited, so it comes with its edit after
// many newer ones) still shows once it comes: the document remembers
// more ids one by one than a replay holds, and lets the oldest go first.
func TestLiveDocShowsAMessageItsReplayHeldBack(t *testing.T) {
	shown := shownIDs{floor: 100, keep: 20 + 64}
	for id := int64(102); id <= 180; id++ {
		if !shown.add(id) {
			t.Fatalf("%d taken for shown", id)
		}
	}
	if !shown.add(101) {
		t.Fatal("the edited message 101, replayed after 102–180, was taken for shown")
	}
	if shown.add(101) || shown.add(150) || shown.add(100) {
		t.Fatal("a message shown already (or below the floor) would show again")
	}
	for id := int64(181); id <= 190; id++ {
		shown.add(id)
	}
	if shown.add(105) || len(shown.ids) != shown.keep {
		t.Fatalf("after the oldest were let go: floor %d, %d kept; want 105 taken for shown and %d kept", shown.floor, len(shown.ids), shown.keep)
	}
}

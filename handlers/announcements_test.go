package handlers

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/internal/sseclient"
)

// sentinel posts a plain message to room after whatever a test is counting
// has committed. The store publishes in commit order and each stream
// delivers in order, so a reader that reaches the sentinel has had
// everything before it: no quiet period to guess at a loaded machine.
func sentinel(t *testing.T, by *browser, room int64, text string) {
	t.Helper()
	res := by.post(fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {text}}, nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("post the sentinel %q: %d\n%s", text, res.status, res.body)
	}
}

// countAnnouncements reads s up to the sentinel message with text mark,
// counting the announcement copies with body it carries; last is the last
// event before the sentinel.
func countAnnouncements(s *stream, body, mark string) (n int, last sseclient.Event, err error) {
	for {
		ev, err := s.bg.Next(streamWait)
		if err != nil {
			return n, last, fmt.Errorf("after %d copies, before the sentinel %q: %w", n, mark, err)
		}
		if !strings.Contains(ev.Data, `class="msg announcement`) && strings.Contains(ev.Data, mark) {
			return n, last, nil
		}
		if strings.Contains(ev.Data, `class="msg announcement`) && strings.Contains(ev.Data, body) {
			n++
		}
		last = ev
	}
}

var countsRE = regexp.MustCompile(`id="ann-(\d+)-delivered">(\d+)<.*id="ann-\d+-read">(\d+)<`)

// statusCounts reads the delivered and read counts off the status page.
func statusCounts(t *testing.T, b *browser, path string) (delivered, read int) {
	t.Helper()
	res := b.get(path, nil)
	if res.status != http.StatusOK {
		t.Fatalf("status page: %d\n%s", res.status, res.body)
	}
	m := countsRE.FindStringSubmatch(strings.ReplaceAll(res.body, "\n", ""))
	if m == nil {
		t.Fatalf("status page shows no counts:\n%s", res.body)
	}
	delivered, _ = strconv.Atoi(m[2])
	read, _ = strconv.Atoi(m[3])
	return delivered, read
}

// The end-to-end promise: an announcement to a room of 200 and three more
// people reaches each of them exactly once, live or on return, never its
// sender's stream, and the sender's delivered and read counts match what
// happened, live.
func TestAnnouncementToARoomAndPeopleReachesEachOnce(t *testing.T) {
	a := newApp(t)
	boss := a.signup("boss")
	room := boss.createRoom("all-hands")
	var people []*browser
	for i := range 203 {
		b := a.signup(fmt.Sprintf("p%03d", i))
		if i < 200 {
			if res := b.post(fmt.Sprintf("/rooms/%d/join", room), nil, nil); res.status != http.StatusSeeOther {
				t.Fatalf("join: %d", res.status)
			}
		}
		people = append(people, b)
	}
	before, _ := a.store.LatestID(t.Context())

	// 150 are online, 53 are not.
	online, offline := people[:150], people[150:]
	streams := make([]*stream, len(online))
	for i, b := range online {
		streams[i] = b.open("", nil)
	}
	bossStream := boss.open("", nil)
	a.waitConns(len(online) + 1)

	const text = "All hands at 3pm <b>sharp</b>"
	res := boss.post("/announcements", url.Values{
		"body": {text},
		"room": {strconv.FormatInt(room, 10)},
		// p000 is in the room too: still one copy.
		"to": {"p200, p201", "p202 p000"},
	}, nil)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/announcements/") {
		t.Fatalf("announce: %d %q\n%s", res.status, res.location, res.body)
	}
	status := res.location

	sentinel(t, boss, room, "sentinel after the announcement")

	var wg sync.WaitGroup
	counts := make([]int, len(streams))
	errs := make([]error, len(streams))
	for i, s := range streams {
		wg.Go(func() {
			counts[i], _, errs[i] = countAnnouncements(s, "All hands at 3pm &lt;b&gt;sharp&lt;/b&gt;", "sentinel after the announcement")
		})
	}
	wg.Wait()
	for i, n := range counts {
		if errs[i] != nil {
			t.Errorf("%s: %v", online[i].name, errs[i])
		} else if n != 1 {
			t.Errorf("%s received the announcement %d times, want once", online[i].name, n)
		}
	}
	waitCounts(t, boss, status, 150, 0)

	// The offline ones come back: 30 resume their stream, 23 load a page.
	resumed := make([]*stream, 30)
	for i, b := range offline[:30] {
		resumed[i] = b.open("?after="+strconv.FormatInt(before, 10), nil)
	}
	// Each resumed stream was subscribed before its response came, so the
	// sentinel comes after the replay on every one of them.
	sentinel(t, boss, room, "sentinel after the replays")
	for i, s := range resumed {
		wg.Go(func() { counts[i], _, errs[i] = countAnnouncements(s, "sharp", "sentinel after the replays") })
	}
	wg.Wait()
	for i := range resumed {
		if errs[i] != nil {
			t.Errorf("%s: %v", offline[i].name, errs[i])
		} else if counts[i] != 1 {
			t.Errorf("%s replayed the announcement %d times, want once", offline[i].name, counts[i])
		}
	}
	for _, b := range offline[30:] {
		res := b.get("/rooms", nil)
		mustContain(t, res.body, `class="count"`, "boss")
	}
	waitCounts(t, boss, status, 203, 0)

	// 40 open their conversation with boss: read.
	for _, b := range people[:40] {
		res := b.get("/rooms", nil)
		m := regexp.MustCompile(`href="/rooms/(\d+)" data-room="\d+"[^>]*>\s*boss`).FindStringSubmatch(res.body)
		if m == nil {
			t.Fatalf("%s's sidebar lacks the conversation with boss:\n%s", b.name, res.body)
		}
		page := b.get("/rooms/"+m[1], nil)
		mustContain(t, page.body, `class="badge">Announcement`, "All hands at 3pm &lt;b&gt;sharp&lt;/b&gt;")
	}
	waitCounts(t, boss, status, 203, 40)

	// The sender's stream carried receipts, never the copies. Receipts go
	// out from the writer right after the write that changed them, so the
	// last one is out before a sentinel posted after the counts show.
	sentinel(t, boss, room, "sentinel after the receipts")
	n, last, err := countAnnouncements(bossStream, "sharp", "sentinel after the receipts")
	if err != nil {
		t.Fatalf("the sender's stream: %v", err)
	}
	if n != 0 {
		t.Errorf("the sender's stream carried %d copies", n)
	}
	if !strings.Contains(last.Data, ">203<") || !strings.Contains(last.Data, ">40<") {
		t.Errorf("the last receipt on the sender's stream = %q, want 203 delivered and 40 read", last.Data)
	}
	if id := last.IntID(); id < before {
		t.Errorf("receipt event id %d is behind the stream", id)
	}
	page := boss.get(status, nil)
	mustContain(t, page.body, "p000", "Read", "Delivered")
	mustNotContain(t, page.body, "<b>sharp")
}

func waitCounts(t *testing.T, b *browser, path string, delivered, read int) {
	t.Helper()
	deadline := time.Now().Add(streamWait)
	for {
		d, r := statusCounts(t, b, path)
		if d == delivered && r == read {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status shows %d delivered, %d read after %v; want %d and %d", d, r, streamWait, delivered, read)
		}
		time.Sleep(20 * time.Millisecond) // the polling interval
	}
}

func TestAnnouncementFormRefusesWhatTheSenderMayNotDo(t *testing.T) {
	a := newApp(t)
	admin, ann := a.signup("admin"), a.signup("ann")
	a.signup("bob")
	room := admin.createRoom("staff")
	for _, tc := range []struct {
		name   string
		by     *browser
		form   url.Values
		status int
		says   string
	}{
		{"everyone, not admin", ann, url.Values{"body": {"hi"}, "everyone": {"1"}}, 403, "Only admins"},
		{"a room not joined", ann, url.Values{"body": {"hi"}, "room": {strconv.FormatInt(room, 10)}}, 403, "rooms you are in"},
		{"a forged room id", ann, url.Values{"body": {"hi"}, "room": {"x"}}, 422, "by id"},
		{"unknown people", ann, url.Values{"body": {"hi"}, "to": {"bob, ghost"}}, 404, "ghost"},
		{"nobody", ann, url.Values{"body": {"hi"}}, 422, "Nobody to send to"},
		{"empty text", ann, url.Values{"body": {"  "}, "to": {"bob"}}, 422, "Message is empty"},
		{"too long", ann, url.Values{"body": {strings.Repeat("x", chat.MaxMessageRunes+1)}, "to": {"bob"}}, 422, "the limit is 4000"},
		{"invalid UTF-8", ann, url.Values{"body": {"a\xffb"}, "to": {"bob"}}, 422, "UTF-8"},
	} {
		res := tc.by.post("/announcements", tc.form, nil)
		if res.status != tc.status || !strings.Contains(res.body, tc.says) {
			t.Errorf("%s: %d, want %d saying %q\n%s", tc.name, res.status, tc.status, tc.says, res.body)
		}
	}
	if res := admin.post("/announcements", url.Values{"body": {"all"}, "everyone": {"1"}}, nil); res.status != http.StatusSeeOther {
		t.Errorf("admin to everyone: %d", res.status)
	}
	// Only the sender sees an announcement's status.
	mine, _ := a.store.Announcements(t.Context(), admin.user(), 1)
	if res := ann.get(fmt.Sprintf("/announcements/%d", mine[0].ID), nil); res.status != http.StatusNotFound {
		t.Errorf("a recipient opening the status page: %d", res.status)
	}
	if res := a.browser().post("/announcements", url.Values{"body": {"hi"}, "to": {"bob"}}, nil); res.status != http.StatusUnauthorized {
		t.Errorf("anonymous announce: %d", res.status)
	}
}

func chatTargets(usernames ...string) chat.AnnouncementTargets {
	return chat.AnnouncementTargets{Usernames: usernames}
}

// A status page's stream starts with the current status, so a receipt
// published while the page was loading (before its stream connected) is
// not lost. Nobody but the sender gets it.
func TestStatusPageStreamStartsWithTheCurrentStatus(t *testing.T) {
	a := newApp(t)
	cleo, dave := a.signup("cleo"), a.signup("dave")
	res := cleo.post("/announcements", url.Values{"body": {"fire drill"}, "to": {"dave"}}, nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("announce: %d", res.status)
	}
	page := cleo.get(res.location, nil)
	m := regexp.MustCompile(`data-connect="(/events\?[^"]+)"`).FindStringSubmatch(page.body)
	if m == nil || !strings.Contains(m[1], "watch=") {
		t.Fatalf("status page stream: %v", m)
	}
	query := strings.TrimPrefix(html.UnescapeString(m[1]), "/events")

	// Dave reads it before cleo's stream connects: no live receipt reaches her.
	rooms, _, _ := a.store.Rooms(t.Context(), dave.user().ID)
	if res := dave.get(fmt.Sprintf("/rooms/%d", rooms[0].ID), nil); res.status != http.StatusOK {
		t.Fatalf("dave opens the conversation: %d", res.status)
	}
	ev := cleo.open(query, nil).next()
	id := strings.TrimPrefix(res.location, "/announcements/")
	mustContain(t, ev.Data, `hx-target="#ann-`+id+`-read" hx-swap="textContent">1</hx-partial>`, "Read")

	// The same address from someone else's stream shows nothing of it.
	a.waitConns(1)
	other := dave.open(query, nil)
	dave.createRoom("marker")
	if ev := other.next(); strings.Contains(ev.Data, "ann-"+id) {
		t.Fatalf("a recipient's stream carried the sender's status: %.200s", ev.Data)
	}
}

// With several nodes the replay reaches back before a status page's
// resume point; the status that ends it never carries an id below that
// point, or the page's stream would resume further back each time.
func TestStatusAfterAFlooredReplayKeepsTheResumePoint(t *testing.T) {
	a := newAppWith(t, hub.Options{}, nil, func(d *Deps) {
		d.ReplayFrom = func(made time.Time) time.Time { return made.Add(-time.Hour) }
	})
	cleo, bob := a.signup("cleo"), a.signup("bob")
	a.signup("dave")
	res := cleo.post("/announcements", url.Values{"body": {"fire drill"}, "to": {"dave"}}, nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("announce: %d", res.status)
	}
	bob.createRoom("elsewhere") // the newest event is one cleo does not get
	page := cleo.get(res.location, nil)
	m := regexp.MustCompile(`data-connect="(/events\?[^"]+)"`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("no status page stream")
	}
	query := strings.TrimPrefix(html.UnescapeString(m[1]), "/events")
	q, _ := url.ParseQuery(strings.TrimPrefix(query, "?"))
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if err != nil {
		t.Fatalf("the stream resumes from %q", q.Get("after"))
	}
	s := cleo.open(query, nil)
	for {
		ev := s.next()
		if !strings.Contains(ev.Data, "ann-") {
			continue // an older event sent again
		}
		if ev.IntID() < after {
			t.Fatalf("the status carries id %d, below the page's resume point %d", ev.IntID(), after)
		}
		return
	}
}

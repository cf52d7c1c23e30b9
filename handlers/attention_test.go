package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// say posts text to room as b, with a plain form post.
func (b *browser) say(room int64, text string) {
	b.a.t.Helper()
	if res := b.post(fmt.Sprintf("/rooms/%d/messages", room), url.Values{"body": {text}}, nil); res.status != http.StatusSeeOther {
		b.a.t.Fatalf("%s posts %q: %d\n%.300s", b.name, text, res.status, res.body)
	}
}

func (b *browser) join(room int64) {
	b.a.t.Helper()
	if res := b.post(fmt.Sprintf("/rooms/%d/join", room), nil, nil); res.status != http.StatusSeeOther {
		b.a.t.Fatalf("%s joins %d: %d", b.name, room, res.status)
	}
}

var countsTag = regexp.MustCompile(`<span id="counts-(\d+)" class="counts" data-last="(\d+)" data-unread="(\d+)" data-mentions="(\d+)">`)

// sidebarCounts reads each room's unread and mention counts off a page.
func sidebarCounts(t *testing.T, body string) map[int64][2]int {
	t.Helper()
	out := map[int64][2]int{}
	for _, m := range countsTag.FindAllStringSubmatch(body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		unread, _ := strconv.Atoi(m[3])
		mentions, _ := strconv.Atoi(m[4])
		out[id] = [2]int{unread, mentions}
	}
	return out
}

// Counts come with every page, from the store: own messages and join
// lines never count, a mention counts apart, and opening a room reads it
// up to what the page showed, with a line where the new messages start.
func TestUnreadCountsOnEveryPageAndReadOnOpen(t *testing.T) {
	a := newApp(t)
	ann, bob := a.signup("ann"), a.signup("bob")
	lobby, side := ann.createRoom("lobby"), ann.createRoom("side")
	bob.join(lobby)
	bob.join(side)
	bob.say(lobby, "bob's own")
	ann.say(lobby, "one")
	ann.say(lobby, "two @bob")
	a.signup("cat").join(lobby) // a join line: not counted
	ann.say(side, "elsewhere")

	for _, path := range []string{"/rooms", "/people", "/announcements", "/mentions"} {
		res := bob.get(path, nil)
		got := sidebarCounts(t, res.body)
		if got[lobby] != [2]int{2, 1} || got[side] != [2]int{1, 0} {
			t.Errorf("%s: counts %v, want lobby 2 (1 mention) and side 1", path, got)
		}
		mustContain(t, res.body, `<span class="count">2<span class="visually-hidden"> unread</span></span>`,
			`<span class="count mention-count">@1<span class="visually-hidden"> mentioning you</span></span>`)
	}

	page := bob.get(fmt.Sprintf("/rooms/%d", lobby), nil).body
	if got := sidebarCounts(t, page); got[lobby] != [2]int{0, 0} || got[side] != [2]int{1, 0} {
		t.Errorf("the open room's counts: %v", got)
	}
	line, one, own := strings.Index(page, `class="new-line"`), strings.Index(page, ">one</div>"), strings.Index(page, ">bob&#39;s own</div>")
	if line < 0 || !(own < line && line < one) {
		t.Errorf("the New messages line is not between bob's own message and the first unread (%d, %d, %d)", own, line, one)
	}
	if got := sidebarCounts(t, bob.get("/rooms", nil).body); got[lobby] != [2]int{0, 0} {
		t.Errorf("lobby after opening it: %v", got[lobby])
	}
	if page := bob.get(fmt.Sprintf("/rooms/%d", lobby), nil).body; strings.Contains(page, "new-line") {
		t.Error("a line with nothing new")
	}
	ann.say(lobby, "three")
	page = bob.get(fmt.Sprintf("/rooms/%d", lobby), nil).body
	if line, three := strings.Index(page, `class="new-line"`), strings.Index(page, ">three</div>"); line < 0 || line > three || line < strings.Index(page, ">two ") {
		t.Error("the line is not right before the one new message")
	}
	// Ann's own messages never count for her; bob's does.
	if got := sidebarCounts(t, ann.get("/rooms", nil).body); got[lobby] != [2]int{1, 0} {
		t.Errorf("ann's lobby: %v, want bob's one message", got[lobby])
	}
}

func TestMarkReadByThePageScript(t *testing.T) {
	a := newApp(t)
	ann, bob, cat := a.signup("ann"), a.signup("bob"), a.signup("cat")
	lobby := ann.createRoom("lobby")
	bob.join(lobby)
	ann.say(lobby, "one")
	ann.say(lobby, "two")
	msgs, _, _ := a.store.History(t.Context(), lobby, 0, 10)
	one, two := msgs[len(msgs)-2].ID, msgs[len(msgs)-1].ID
	read := func(b *browser, upTo int64) int {
		return b.post(fmt.Sprintf("/rooms/%d/read", lobby), url.Values{"up_to": {strconv.FormatInt(upTo, 10)}}, htmx).status
	}
	if s := read(bob, one); s != http.StatusNoContent {
		t.Fatalf("mark read: %d", s)
	}
	if got := sidebarCounts(t, bob.get("/rooms", nil).body); got[lobby] != [2]int{1, 0} {
		t.Errorf("after reading up to the first: %v", got[lobby])
	}
	// A tab behind the others cannot move the mark back.
	if s := read(bob, two); s != http.StatusNoContent {
		t.Fatal(s)
	}
	read(bob, one)
	if got := sidebarCounts(t, bob.get("/rooms", nil).body); got[lobby] != [2]int{0, 0} {
		t.Errorf("a later, lower mark moved it back: %v", got[lobby])
	}
	if s := read(cat, two); s != http.StatusNotFound {
		t.Errorf("a non-member marking: %d", s)
	}
	if s := bob.post(fmt.Sprintf("/rooms/%d/read", lobby), url.Values{"up_to": {"x"}}, htmx).status; s != http.StatusUnprocessableEntity {
		t.Errorf("a bad id: %d", s)
	}
	if s := a.browser().post(fmt.Sprintf("/rooms/%d/read", lobby), url.Values{"up_to": {"1"}}, htmx).status; s != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", s)
	}
}

// An announcement copy counts as unread in the recipient's conversation,
// highlighted there, and opening the conversation is still its read
// receipt.
func TestConversationCountsIncludeAnnouncements(t *testing.T) {
	a := newApp(t)
	boss, dave := a.signup("boss"), a.signup("dave")
	if res := boss.post("/announcements", url.Values{"body": {"drill"}, "to": {"dave"}}, nil); res.status != http.StatusSeeOther {
		t.Fatalf("announce: %d", res.status)
	}
	rooms, _, _ := a.store.Rooms(t.Context(), dave.user().ID)
	conv := rooms[0].ID
	res := dave.get("/rooms", nil)
	if got := sidebarCounts(t, res.body); got[conv] != [2]int{1, 0} {
		t.Fatalf("dave's conversation: %v", got)
	}
	mustContain(t, res.body, `<ul class="conversations">`)
	dave.get(fmt.Sprintf("/rooms/%d", conv), nil)
	mine, _ := a.store.Announcements(t.Context(), boss.user(), 1)
	if mine[0].Read != 1 {
		t.Errorf("opening the conversation did not read the announcement: %+v", mine[0])
	}
	if got := sidebarCounts(t, dave.get("/rooms", nil).body); got[conv] != [2]int{0, 0} {
		t.Errorf("after opening: %v", got[conv])
	}
}

// The mentions page lists what mentions the viewer in rooms they are in,
// newest first, a page at a time, and nothing from rooms they are not in.
func TestMentionsPage(t *testing.T) {
	a := newApp(t)
	ann, bob, cat := a.signup("ann"), a.signup("bob"), a.signup("cat")
	lobby, secret := ann.createRoom("lobby"), ann.createRoom("secret")
	bob.join(lobby)
	bob.join(secret)
	cat.join(lobby)
	for i := range 52 {
		ann.say(lobby, fmt.Sprintf("ping %d @bob", i))
	}
	ann.say(secret, "in secret @bob <b>hi</b>")
	ann.say(lobby, "@cat only")

	first := bob.get("/mentions", nil).body
	mustContain(t, first, "in secret <span", "ping 51 <span", `<span class="mention">@bob</span>`, "&lt;b&gt;hi&lt;/b&gt;", "Older mentions",
		fmt.Sprintf(`href="/rooms/%d"`, secret))
	mustNotContain(t, first, "@cat only", "ping 2 <span", "<b>hi")
	if n := strings.Count(first, `class="mentioned-in"`); n != 50 {
		t.Errorf("first page lists %d", n)
	}
	if strings.Index(first, "in secret") > strings.Index(first, "ping 51") {
		t.Error("not newest first")
	}
	next := regexp.MustCompile(`href="(/mentions\?before=\d+)"`).FindStringSubmatch(first)
	if next == nil {
		t.Fatal("no link to older mentions")
	}
	second := bob.get(next[1], nil).body
	mustContain(t, second, "ping 0 <span", "ping 1 <span", "ping 2 <span")
	mustNotContain(t, second, "Older mentions", "ping 3 <span")
	if n := strings.Count(second, `class="mentioned-in"`); n != 3 {
		t.Errorf("second page lists %d", n)
	}

	// cat, in the lobby only, sees her own mention and nothing of the secret room.
	catPage := cat.get("/mentions", nil).body
	mustContain(t, catPage, "@cat</span> only")
	mustNotContain(t, catPage, "in secret", "ping 5") // not "ping": the page offers to turn typing off
	// Leaving a room takes its mentions off the list.
	if res := bob.post(fmt.Sprintf("/rooms/%d/leave", secret), nil, nil); res.status != http.StatusSeeOther {
		t.Fatal(res.status)
	}
	mustNotContain(t, bob.get("/mentions", nil).body, "in secret")
	if res := bob.get("/mentions?before=x", nil); res.status != http.StatusUnprocessableEntity {
		t.Errorf("a bad cursor: %d", res.status)
	}
	if res := a.browser().get("/mentions", nil); res.status != http.StatusSeeOther {
		t.Errorf("anonymous: %d", res.status)
	}
}

func TestMentionSuggestions(t *testing.T) {
	a := newApp(t)
	ann, alice, albert, bob := a.signup("ann"), a.signup("alice"), a.signup("albert"), a.signup("bob")
	lobby := ann.createRoom("lobby")
	alice.join(lobby)
	albert.join(lobby)
	suggest := func(b *browser, room int64, q string) result {
		return b.get(fmt.Sprintf("/rooms/%d/mention-suggestions?q=%s", room, url.QueryEscape(q)), htmx)
	}
	res := suggest(ann, lobby, "al")
	if res.status != http.StatusOK {
		t.Fatalf("suggestions: %d", res.status)
	}
	mustContain(t, res.body, `role="listbox"`, `data-name="albert"`, `data-name="alice"`)
	mustNotContain(t, res.body, `data-name="ann"`, `data-name="bob"`, "<html")
	if strings.Index(res.body, "albert") > strings.Index(res.body, "alice") {
		t.Error("not by username")
	}
	// @room: offered to the room's creator, not to a member.
	mustContain(t, suggest(ann, lobby, "r").body, `data-name="room"`)
	mustNotContain(t, suggest(alice, lobby, "r").body, `data-name="room"`)
	mustContain(t, suggest(alice, lobby, "@A").body, `data-name="albert"`)
	for _, q := range []string{"a%", "a b", "_x", strings.Repeat("a", 40)} {
		if res := suggest(ann, lobby, q); res.status != http.StatusOK || res.body != "" {
			t.Errorf("q %q: %d %q", q, res.status, res.body)
		}
	}
	// Only members ask: a public room says to join; a conversation is not there.
	if res := suggest(bob, lobby, "a"); res.status != http.StatusForbidden {
		t.Errorf("non-member, public room: %d", res.status)
	}
	if res := ann.post("/dm", url.Values{"with": {"alice"}}, nil); res.status != http.StatusSeeOther {
		t.Fatal(res.status)
	}
	rooms, _, _ := a.store.Rooms(t.Context(), alice.user().ID)
	var dm int64
	for _, r := range rooms {
		if r.Conversation() {
			dm = r.ID
		}
	}
	if res := suggest(bob, dm, "a"); res.status != http.StatusNotFound || strings.Contains(res.body, "alice") {
		t.Errorf("non-member, conversation: %d", res.status)
	}
	// The composer offers them (not the widget's: it has no htmx).
	page := ann.get(fmt.Sprintf("/rooms/%d", lobby), nil).body
	mustContain(t, page, fmt.Sprintf(`hx-get="/rooms/%d/mention-suggestions" hx-trigger="rtm-mention delay:150ms" hx-include="#mention-q"`, lobby))
}

// Each member's stream gets the same bytes for a message with mentions,
// the mentioned ids among them; non-members get nothing. A read mark goes
// to the reader's own streams only.
func TestMentionsAndReadsOnTheStream(t *testing.T) {
	a := newApp(t)
	ann, bob, cat, dan := a.signup("ann"), a.signup("bob"), a.signup("cat"), a.signup("dan")
	lobby, other := ann.createRoom("lobby"), dan.createRoom("other")
	bob.join(lobby)
	cat.join(lobby)
	ann.join(other)
	streams := map[string]*stream{}
	for _, b := range []*browser{ann, bob, cat, dan} {
		streams[b.name] = b.open("", nil)
	}
	a.waitConns(4)
	ann.say(lobby, "hi @bob and @dan")
	ann.say(other, "sentinel one")
	var data []string
	for _, name := range []string{"ann", "bob", "cat"} {
		ev := streams[name].next()
		data = append(data, ev.Data)
		if !strings.Contains(ev.Data, fmt.Sprintf(`data-mentions="%d"`, bob.user().ID)) || !strings.Contains(ev.Data, `<span class="mention">@bob</span> and @dan`) {
			t.Errorf("%s got %q", name, ev.Data)
		}
	}
	if data[0] != data[1] || data[1] != data[2] {
		t.Error("members got different bytes for one message")
	}
	if ev := streams["dan"].next(); !strings.Contains(ev.Data, "sentinel one") {
		t.Errorf("a non-member's stream got %q before the sentinel", ev.Data)
	}
	// Creator's @room: everyone's, same bytes again.
	ann.say(lobby, "@room lunch")
	for _, name := range []string{"bob", "cat"} {
		if ev := streams[name].next(); !strings.Contains(ev.Data, `data-mentions="room"`) {
			t.Errorf("%s got %q", name, ev.Data)
		}
	}
	// Bob opens the lobby: his streams learn the new counts; nobody else's.
	bob.get(fmt.Sprintf("/rooms/%d", lobby), nil)
	ev := streams["bob"].next()
	mustContain(t, ev.Data, fmt.Sprintf(`<hx-partial hx-target="#counts-%d" hx-swap="outerHTML">`, lobby), `data-unread="0"`, `data-mentions="0"`)
	if id := ev.IntID(); id < 1 {
		t.Errorf("read event id %d", id)
	}
	ann.say(lobby, "sentinel two")
	ann.say(other, "sentinel three")
	for name, sentinel := range map[string]string{"ann": "sentinel three", "cat": "sentinel two", "dan": "sentinel three"} {
		for ev := streams[name].next(); !strings.Contains(ev.Data, sentinel); ev = streams[name].next() {
			if strings.Contains(ev.Data, "counts-") {
				t.Errorf("%s got bob's read mark", name)
			}
		}
	}
}

package hub

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// fakeClock is the injected clock: time moves only when a test says.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// liveRig is a rig whose typing and presence flushes run when the test
// ticks them, on a clock the test moves. Events render as plain text.
type liveRig struct {
	*rig
	clock          *fakeClock
	typing, presnc chan time.Time
}

func newLiveRig(t *testing.T, opt Options) *liveRig {
	t.Helper()
	lr := &liveRig{clock: &fakeClock{t: time.Unix(1_700_000_000, 0)}, typing: make(chan time.Time), presnc: make(chan time.Time)}
	opt.Now, opt.TypingTicks, opt.PresenceTicks = lr.clock.Now, lr.typing, lr.presnc
	if opt.RenderTyping == nil {
		opt.RenderTyping = func(room int64, ts []chat.Typist) []byte {
			names := make([]string, len(ts))
			for i, t := range ts {
				names[i] = t.Name
			}
			return fmt.Appendf(nil, "typing in %d: %s", room, strings.Join(names, ","))
		}
	}
	opt.RenderPresence = func(room int64, cs []chat.PresenceChange) []byte {
		parts := make([]string, len(cs))
		for i, c := range cs {
			parts[i] = fmt.Sprintf("%d=%s", c.User, c.State)
		}
		return fmt.Appendf(nil, "presence in %d: %s", room, strings.Join(parts, ","))
	}
	lr.rig = newRig(t, opt)
	return lr
}

// flush runs one flush and returns once it is done: the loop takes the
// second tick only after it has finished with the first (the second
// finds nothing new to send).
func flush(ticks chan time.Time) {
	ticks <- time.Time{}
	ticks <- time.Time{}
}

// sentinel publishes a message to room and checks that it is the next
// thing each of clients gets: nothing else came before it.
func (lr *liveRig) sentinel(t *testing.T, room, id int64, clients ...*client) {
	t.Helper()
	lr.hub.Publish(room, id, []byte("sentinel"))
	for i, c := range clients {
		if ev := c.next(t); ev.IntID() != id || ev.Data != "sentinel" {
			t.Fatalf("client %d: got %+v before sentinel %d", i, ev, id)
		}
	}
}

// A thousand-member room where twenty people start typing within one
// flush gets one event, listing all twenty, to each member once; renewing
// the signals sends nothing more; another room's member hears none of it.
func TestTypingIsCoalescedPerRoom(t *testing.T) {
	lr := newLiveRig(t, Options{})
	const members = 1000
	for u := int64(1); u <= members; u++ {
		lr.hub.Join(10, u)
	}
	lr.hub.Join(20, 5000)
	var clients []*client
	for _, u := range []int64{1, 2, 500, 999, 1000} {
		clients = append(clients, lr.connect(u, ""))
	}
	outsider := lr.connect(5000, "")
	lr.waitConns(len(clients) + 1)
	flush(lr.presnc) // everyone came online: get that said first
	for _, c := range clients {
		if ev := c.next(t); ev.Name != PresenceEvent {
			t.Fatalf("want the presence event first, got %+v", ev)
		}
	}
	outsider.next(t) // its own room's presence

	for u := int64(1); u <= 20; u++ {
		lr.clock.Add(10 * time.Millisecond)
		if !lr.hub.Typing(10, u, fmt.Sprint("user", u)) {
			t.Fatalf("member %d refused", u)
		}
	}
	flush(lr.typing)
	want := "typing in 10: user1,user2,user3,user4,user5,user6,user7,user8,user9,user10,user11,user12,user13,user14,user15,user16,user17,user18,user19,user20"
	for i, c := range clients {
		if ev := c.next(t); ev.Name != TypingEvent || ev.Data != want {
			t.Fatalf("client %d got %+v", i, ev)
		}
	}
	// Signals renewed within their 6 s change no one's view: no event.
	lr.clock.Add(3 * time.Second)
	for u := int64(1); u <= 20; u++ {
		lr.hub.Typing(10, u, fmt.Sprint("user", u))
	}
	flush(lr.typing)
	lr.sentinel(t, 10, 1, clients...)
	lr.sentinel(t, 20, 2, outsider)
}

// A typing signal shows for 6 s unless renewed; then one event says
// nobody is typing. Sending a message ends it at once.
func TestTypingExpiresAfterSixSeconds(t *testing.T) {
	lr := newLiveRig(t, Options{})
	lr.hub.Join(10, 1)
	lr.hub.Join(10, 2)
	bob := lr.connect(2, "")
	lr.waitConns(1)
	flush(lr.presnc)
	bob.next(t)

	lr.hub.Typing(10, 1, "alice")
	flush(lr.typing)
	if ev := bob.next(t); ev.Data != "typing in 10: alice" {
		t.Fatalf("got %+v", ev)
	}
	lr.clock.Add(6*time.Second - time.Millisecond)
	flush(lr.typing)
	lr.sentinel(t, 10, 1, bob) // still typing: nothing new
	lr.clock.Add(time.Millisecond)
	flush(lr.typing)
	if ev := bob.next(t); ev.Name != TypingEvent || ev.Data != "typing in 10: " {
		t.Fatalf("after 6 s got %+v", ev)
	}

	lr.hub.Typing(10, 1, "alice")
	flush(lr.typing)
	bob.next(t)
	lr.hub.StoppedTyping(10, 1)
	flush(lr.typing)
	if ev := bob.next(t); ev.Data != "typing in 10: " {
		t.Fatalf("after sending got %+v", ev)
	}
}

// Typing and presence events carry the newest message id published, so a
// browser resuming from one misses nothing and replays little.
func TestLiveEventsCarryTheNewestPublishedID(t *testing.T) {
	lr := newLiveRig(t, Options{})
	lr.hub.SetLatestID(100)
	lr.hub.Join(10, 1)
	lr.hub.Join(10, 2)
	bob := lr.connect(2, "")
	lr.waitConns(1)
	flush(lr.presnc)
	if ev := bob.next(t); ev.ID != "100" {
		t.Fatalf("presence event id %q, want 100", ev.ID)
	}
	lr.hub.Publish(10, 101, []byte("message"))
	bob.next(t)
	lr.hub.Typing(10, 1, "alice")
	flush(lr.typing)
	if ev := bob.next(t); ev.ID != "101" || ev.Name != TypingEvent {
		t.Fatalf("typing event %+v, want id 101", ev)
	}
}

// Someone who is not a member cannot show as typing in a room.
func TestTypingNeedsMembership(t *testing.T) {
	lr := newLiveRig(t, Options{})
	lr.hub.Join(10, 2)
	lr.hub.Join(20, 1)
	bob := lr.connect(2, "")
	lr.waitConns(1)
	flush(lr.presnc)
	bob.next(t)
	if lr.hub.Typing(10, 1, "mallory") {
		t.Fatal("a non-member's typing was accepted")
	}
	flush(lr.typing)
	lr.sentinel(t, 10, 1, bob)
}

// A connection that asks to save data, or a user in light mode, gets no
// typing or presence events at all; messages still come.
func TestSaveDataAndLightModeGetNoLiveEvents(t *testing.T) {
	lr := newLiveRig(t, Options{Light: func(user int64) bool { return user == 4 }})
	for u := int64(1); u <= 4; u++ {
		lr.hub.Join(10, u)
	}
	saver := lr.connectWith(2, "", http.Header{"Save-Data": {"on"}})
	normal := lr.connect(3, "")
	light := lr.connect(4, "")
	lr.waitConns(3)
	flush(lr.presnc)
	if ev := normal.next(t); ev.Name != PresenceEvent {
		t.Fatalf("got %+v", ev)
	}
	lr.hub.Typing(10, 1, "alice")
	flush(lr.typing)
	if ev := normal.next(t); ev.Name != TypingEvent {
		t.Fatalf("got %+v", ev)
	}
	lr.sentinel(t, 10, 1, saver, light, normal)

	// Per user: the saver's other browser shares its queue, so it goes
	// without too while the saver is connected.
	other := lr.connect(2, "")
	lr.waitConns(4)
	lr.hub.StoppedTyping(10, 1)
	flush(lr.typing)
	if ev := normal.next(t); ev.Name != TypingEvent {
		t.Fatalf("got %+v", ev)
	}
	lr.sentinel(t, 10, 2, saver, other, light, normal)
}

// Turning light mode on or off takes effect on open streams at once.
func TestSetLightTakesEffectOnOpenStreams(t *testing.T) {
	lr := newLiveRig(t, Options{})
	lr.hub.Join(10, 1)
	lr.hub.Join(10, 2)
	bob := lr.connect(2, "")
	lr.waitConns(1)
	flush(lr.presnc)
	if ev := bob.next(t); ev.Name != PresenceEvent {
		t.Fatalf("got %+v", ev)
	}

	lr.hub.SetLight(2, true)
	lr.hub.Typing(10, 1, "alice")
	flush(lr.typing)
	lr.sentinel(t, 10, 1, bob) // no typing event before it

	lr.hub.SetLight(2, false)
	lr.hub.StoppedTyping(10, 1)
	lr.hub.Typing(10, 1, "alice")
	flush(lr.typing)
	if ev := bob.next(t); ev.Name != TypingEvent || !strings.Contains(ev.Data, "alice") {
		t.Fatalf("got %+v, want alice typing", ev)
	}
}

// A reader whose queue has no room for a typing event goes without it
// and stays connected: a burst of typing and presence must not cut a
// reader that keeps up with messages. A message that does not fit still
// cuts it.
func TestLiveEventsNeverCutAReader(t *testing.T) {
	big := strings.Repeat("t", 32<<10)
	lr := newLiveRig(t, Options{QueueSize: 4, WriteTimeout: 10 * time.Second,
		RenderTyping: func(int64, []chat.Typist) []byte { return []byte(big) }})
	lr.hub.Join(10, 1)
	lr.hub.Join(10, 2)
	stalled, err := net.Dial("tcp", lr.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	stalled.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(stalled, "GET /events HTTP/1.1\r\nHost: x\r\nX-User: 1\r\n\r\n")
	lr.waitConns(1)

	// 400 typing events of 32 KiB (12.8 MB): far more than the stalled
	// socket's buffers and queue hold. Each flush has finished, cut or not,
	// when flush returns.
	for i := range 400 {
		if i%2 == 0 {
			lr.hub.Typing(10, 2, "bob")
		} else {
			lr.hub.StoppedTyping(10, 2)
		}
		flush(lr.typing)
	}
	if _, conns := lr.hub.Stats(); conns != 1 {
		t.Fatalf("%d connections after the typing burst, want the stalled reader still there", conns)
	}
	for id := int64(1); id <= 400; id++ {
		lr.hub.Publish(10, id, []byte(big))
	}
	lr.waitConns(0)
}

// Presence: coming online, going away without activity, coming back, and
// going offline after the last stream closes, each published once per
// flush to the rooms of the person, listing every change of that room.
func TestPresenceIsCoalescedPerRoom(t *testing.T) {
	lr := newLiveRig(t, Options{AwayAfter: 5 * time.Minute, OfflineAfter: 5 * time.Second})
	for u := int64(1); u <= 20; u++ {
		lr.hub.Join(10, u)
	}
	lr.hub.Join(20, 1)
	lr.hub.Join(20, 30)
	var clients []*client
	for u := int64(1); u <= 20; u++ {
		clients = append(clients, lr.connect(u, ""))
	}
	watcher := lr.connect(30, "") // shares room 20 with user 1 only
	lr.waitConns(21)
	flush(lr.presnc)
	var all []string
	for u := 1; u <= 20; u++ {
		all = append(all, fmt.Sprintf("%d=online", u))
	}
	wantAll := "presence in 10: " + strings.Join(all, ",")
	for i, c := range clients {
		if ev := c.next(t); ev.Name != PresenceEvent || ev.Data != wantAll {
			t.Fatalf("client %d got %+v", i, ev)
		}
	}
	// User 1 (room 10 and 20) gets room 20's event too; the watcher only that.
	if ev := clients[0].next(t); ev.Data != "presence in 20: 1=online,30=online" {
		t.Fatalf("got %+v", ev)
	}
	if ev := watcher.next(t); ev.Data != "presence in 20: 1=online,30=online" {
		t.Fatalf("watcher got %+v", ev)
	}

	// Nothing changed: nothing sent.
	flush(lr.presnc)
	lr.sentinel(t, 10, 1, clients[1:]...)

	// Five minutes without activity: everyone is away, but user 2 who did
	// something a minute ago.
	lr.clock.Add(4 * time.Minute)
	lr.hub.Active(2)
	lr.clock.Add(time.Minute)
	flush(lr.presnc)
	var away []string
	for u := 1; u <= 20; u++ {
		if u != 2 {
			away = append(away, fmt.Sprintf("%d=away", u))
		}
	}
	if ev := clients[5].next(t); ev.Data != "presence in 10: "+strings.Join(away, ",") {
		t.Fatalf("got %+v", ev)
	}
	lr.hub.Active(3)
	flush(lr.presnc)
	if ev := clients[5].next(t); ev.Data != "presence in 10: 3=online" {
		t.Fatalf("got %+v", ev)
	}

	// User 4 closes their page: still shown for the grace period, which
	// covers moving to another page, then offline.
	clients[3].resp.Body.Close()
	lr.waitConns(20)
	flush(lr.presnc)
	lr.sentinel(t, 10, 2, clients[5])
	lr.clock.Add(5 * time.Second)
	flush(lr.presnc)
	if ev := clients[5].next(t); ev.Data != "presence in 10: 4=offline" {
		t.Fatalf("got %+v", ev)
	}
	if p := lr.hub.Presence(4); p != chat.PresenceOffline {
		t.Fatalf("Presence(4) = %v", p)
	}
	if p := lr.hub.Presence(3); p != chat.PresenceOnline {
		t.Fatalf("Presence(3) = %v", p)
	}
	if p := lr.hub.Presence(5); p != chat.PresenceAway {
		t.Fatalf("Presence(5) = %v", p)
	}
}

// Moving to another page closes one stream and opens the next: within the
// grace period, nobody is told anything.
func TestPageChangeDoesNotFlashOffline(t *testing.T) {
	lr := newLiveRig(t, Options{})
	lr.hub.Join(10, 1)
	lr.hub.Join(10, 2)
	bob := lr.connect(2, "")
	first := lr.connect(1, "")
	lr.waitConns(2)
	flush(lr.presnc)
	bob.next(t)
	first.resp.Body.Close()
	lr.waitConns(1)
	lr.clock.Add(time.Second)
	flush(lr.presnc)
	lr.connect(1, "")
	lr.waitConns(2)
	lr.clock.Add(10 * time.Second)
	flush(lr.presnc)
	lr.sentinel(t, 10, 1, bob)
}

// A big room's members get a live event in steps (see liveStep): each of
// them once, and before any later message.
func TestLiveEventsReachEveryMemberOfABigRoomOnce(t *testing.T) {
	lr := newLiveRig(t, Options{})
	const n = 2*liveStep + 50
	var clients []*client
	for u := int64(1); u <= n; u++ {
		lr.hub.Join(10, u)
		clients = append(clients, lr.connect(u, ""))
	}
	lr.waitConns(n)
	lr.hub.Typing(10, 1, "ann")
	flush(lr.typing)
	for i, c := range clients {
		if ev := c.next(t); ev.Name != TypingEvent || ev.Data != "typing in 10: ann" {
			t.Fatalf("member %d got %+v", i+1, ev)
		}
	}
	lr.sentinel(t, 10, 1, clients...)
}

// Someone with a page open on another node shows online here while that
// node keeps saying so (Elsewhere), away when it reports them idle, and
// offline once it stops (they left, or the node died) and OfflineAfter
// has passed; a node asking Here learns only of local pages.
func TestPresenceFromOtherNodes(t *testing.T) {
	lr := newLiveRig(t, Options{AwayAfter: 5 * time.Minute, OfflineAfter: 5 * time.Second})
	lr.hub.Join(10, 1)
	lr.hub.Join(10, 2) // 2 is connected to another node only
	local := lr.connect(1, "")
	lr.waitConns(1)
	flush(lr.presnc)
	if ev := local.next(t); ev.Data != "presence in 10: 1=online" {
		t.Fatalf("got %+v", ev)
	}
	if here := lr.hub.Here(); len(here) != 1 || here[0].User != 1 {
		t.Fatalf("Here() = %+v, want user 1 only", here)
	}

	share := func(active time.Time) {
		lr.hub.Elsewhere([]chat.Seen{{User: 2, Active: active}}, lr.clock.Now().Add(6*time.Second))
	}
	share(lr.clock.Now())
	flush(lr.presnc)
	if ev := local.next(t); ev.Data != "presence in 10: 2=online" {
		t.Fatalf("got %+v", ev)
	}
	// Still shared, but idle there for five minutes: away.
	idleSince := lr.clock.Now()
	for range 60 {
		lr.clock.Add(5 * time.Second)
		share(idleSince)
	}
	lr.hub.Active(1)
	flush(lr.presnc)
	if ev := local.next(t); ev.Data != "presence in 10: 2=away" {
		t.Fatalf("got %+v", ev)
	}
	// The other node stops sharing: offline once its word runs out and
	// OfflineAfter has passed, not before.
	lr.clock.Add(6 * time.Second)
	flush(lr.presnc)
	lr.sentinel(t, 10, 1, local)
	lr.clock.Add(5 * time.Second)
	flush(lr.presnc)
	if ev := local.next(t); ev.Data != "presence in 10: 2=offline" {
		t.Fatalf("got %+v", ev)
	}
}

// A reader whose queue was full when a presence event came goes without
// it; once there is room, the next flush sends it the room's presence
// whole, so no dot stays wrong until that person changes again.
func TestMissedPresenceIsSentWhole(t *testing.T) {
	lr := newLiveRig(t, Options{})
	lr.hub.Join(10, 1)
	lr.hub.Join(10, 2)
	lr.hub.Join(10, 3) // never connects: offline
	reader := &heldFrames{writing: make(chan *Event), done: make(chan struct{})}
	c := lr.hub.newConn("test", newQueueOutlet(1, reader))
	u, replay := lr.hub.admit(1, c, nil)
	go lr.hub.run(c, u, replay)
	other := lr.connect(2, "")
	lr.waitConns(2)
	read := func(what string) *Event {
		t.Helper()
		var ev *Event
		select {
		case ev = <-reader.writing:
		case <-time.After(docWait): // only how soon a broken test fails
			t.Fatalf("the reader got nothing, want %q", what)
		}
		reader.done <- struct{}{}
		if got := ev.Name + string(ev.Data); got != what {
			t.Fatalf("the reader got %q, want %q", got, what)
		}
		return ev
	}

	// The reader stalls writing one message, with another queued: no room.
	lr.hub.Publish(10, 1, []byte("one"))
	stalled := <-reader.writing
	lr.hub.Publish(10, 2, []byte("two"))
	flush(lr.presnc) // users 1 and 2 come online
	for _, want := range []string{"one", "two", "presence in 10: 1=online,2=online"} {
		if ev := other.next(t); ev.Data != want {
			t.Fatalf("user 2 got %+v, want %q", ev, want)
		}
	}
	if string(stalled.Data) != "one" {
		t.Fatalf("the reader stalled on %q", stalled.Data)
	}
	reader.done <- struct{}{}
	read("two")
	flush(lr.presnc) // nothing changed, but the reader missed it
	read(PresenceEvent + "presence in 10: 1=online,2=online,3=offline")
	flush(lr.presnc) // sent: nothing more
	lr.sentinel(t, 10, 3, other)
	read("sentinel")

	// Missed again, but light mode is on by the next flush: nothing.
	lr.hub.Publish(10, 4, []byte("three"))
	stalled = <-reader.writing
	lr.hub.Publish(10, 5, []byte("four"))
	lr.clock.Add(10 * time.Minute) // both away
	flush(lr.presnc)
	for _, want := range []string{"three", "four", "presence in 10: 1=away,2=away"} {
		if ev := other.next(t); ev.Data != want {
			t.Fatalf("user 2 got %+v, want %q", ev, want)
		}
	}
	if string(stalled.Data) != "three" {
		t.Fatalf("the reader stalled on %q", stalled.Data)
	}
	lr.hub.SetLight(1, true)
	reader.done <- struct{}{}
	read("four")
	flush(lr.presnc)
	lr.sentinel(t, 10, 6, other)
	read("sentinel")
}

// heldFrames is a reader that reads when the test says: each event
// written is handed to the test, and the write ends when the test says
// it is done.
type heldFrames struct {
	writing chan *Event
	done    chan struct{}
}

func (f *heldFrames) begin() {}
func (f *heldFrames) flush() {}
func (f *heldFrames) write(ctx context.Context, ev *Event) error {
	select {
	case f.writing <- ev:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (f *heldFrames) cut()                  {}
func (f *heldFrames) close(bool, endReason) {}

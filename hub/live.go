package hub

import (
	"cmp"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Who is typing and who is here travel as named events that are never
// stored or replayed: a page that misses one while reconnecting is wrong
// for a few seconds at most. Both are coalesced per room, so their cost
// does not grow with how often people type or come and go: a flush every
// TypingEvery (presence: PresenceEvery) publishes at most one event per
// room, rendered once, the same bytes to every member. The page's script
// applies them by the user ids in their attributes and leaves its own user
// out.
const (
	// TypingEvent lists who is typing in a room (possibly nobody any more).
	TypingEvent = "rtm-typing"
	// PresenceEvent lists the members of a room whose presence changed.
	PresenceEvent = "rtm-presence"
)

// Defaults of the Options that shape typing and presence.
const (
	DefaultTypingFor     = 6 * time.Second
	DefaultTypingEvery   = time.Second
	DefaultPresenceEvery = 3 * time.Second
	DefaultAwayAfter     = 5 * time.Minute
	DefaultOfflineAfter  = 5 * time.Second
)

// live is the typing and presence state, under its own lock: it changes on
// every request (activity) and must not contend with publishing. Lock
// order: Hub.mu before live.mu, never the other way.
type live struct {
	mu      sync.Mutex
	typing  map[int64]map[int64]typist // room → user → their typing
	changed map[int64]struct{}         // rooms whose typists changed since the last flush
	people  map[int64]*person          // users with a stream, or lately active or gone
	stop    chan struct{}
	loops   sync.WaitGroup // the flush loops
}

type typist struct {
	name  string
	since time.Time // when this run of typing began: names show in that order
	until time.Time // when it ends unless renewed
}

// person is one user's presence.
type person struct {
	open   int           // open connections on this node
	active time.Time     // latest activity in any page of theirs
	closed time.Time     // when open fell to zero
	shown  chat.Presence // what their rooms were last told
	// elsewhere: until when another node says they have a page open
	// there (see Elsewhere); zero when none has.
	elsewhere time.Time
}

// state is p's presence at now. Without a connection they stay as shown
// for offlineAfter: moving to another page closes one stream and opens the
// next, which must not flash "offline" to everyone.
func (p *person) state(now time.Time, awayAfter, offlineAfter time.Duration) chat.Presence {
	here := p.open > 0 || now.Before(p.elsewhere)
	switch {
	case here && now.Sub(p.active) >= awayAfter:
		return chat.PresenceAway
	case here:
		return chat.PresenceOnline
	case now.Sub(later(p.closed, p.elsewhere)) >= offlineAfter:
		return chat.PresenceOffline
	}
	return p.shown
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Here lists the users with a page open on this node and when each last
// did something: for the other nodes (Elsewhere).
func (h *Hub) Here() []chat.Seen {
	h.live.mu.Lock()
	defer h.live.mu.Unlock()
	var out []chat.Seen
	for user, p := range h.live.people {
		if p.open > 0 {
			out = append(out, chat.Seen{User: user, Active: p.active})
		}
	}
	return out
}

// Elsewhere records what another node said it has (its Here): each of
// those users has a page open until until, unless the node says so again,
// and was active when it says. A node that stops saying so (they left, or
// the node died) stops counting at until.
func (h *Hub) Elsewhere(seen []chat.Seen, until time.Time) {
	if h.opt.RenderPresence == nil {
		return // nobody is told
	}
	h.live.mu.Lock()
	defer h.live.mu.Unlock()
	for _, s := range seen {
		p := h.live.people[s.User]
		if p == nil {
			p = &person{}
			h.live.people[s.User] = p
		}
		p.active = later(p.active, s.Active)
		p.elsewhere = later(p.elsewhere, until)
	}
}

func newLive() *live {
	return &live{
		typing:  make(map[int64]map[int64]typist),
		changed: make(map[int64]struct{}),
		people:  make(map[int64]*person),
		stop:    make(chan struct{}),
	}
}

func (h *Hub) now() time.Time {
	if h.opt.Now != nil {
		return h.opt.Now()
	}
	return time.Now()
}

// startLive runs the flushes when there is something to render them with,
// typing and presence each on its own goroutine: a big room's paced fan-out
// (see liveStep) of one must not hold up the other.
func (h *Hub) startLive() {
	h.live.loops.Go(func() { h.flushEvery(h.opt.SidebarTicks, h.opt.SidebarEvery, h.flushSidebars) })
	if h.opt.RenderTyping != nil {
		h.live.loops.Go(func() { h.flushEvery(h.opt.TypingTicks, h.opt.TypingEvery, h.flushTyping) })
	}
	if h.opt.RenderPresence != nil {
		h.live.loops.Go(func() { h.flushEvery(h.opt.PresenceTicks, h.opt.PresenceEvery, h.flushPresence) })
	}
}

// flushEvery calls flush at each tick (a ticker every d when ticks is
// nil) until the hub closes.
func (h *Hub) flushEvery(ticks <-chan time.Time, d time.Duration, flush func(time.Time)) {
	if ticks == nil {
		t := time.NewTicker(d)
		defer t.Stop()
		ticks = t.C
	}
	for {
		select {
		case <-h.live.stop:
			return
		case <-ticks:
			flush(h.now())
		}
	}
}

func (h *Hub) stopLive() {
	close(h.live.stop)
	h.live.loops.Wait()
}

// SetLatestID tells the hub the newest message id stored before it
// started. Typing and presence events carry the newest message id already
// published as their SSE id (an SSE event always has one, and a browser
// resumes from the last it saw), so they can never make a stream skip a
// message; an id far behind would instead make a reconnecting page replay
// everything since, or reload.
func (h *Hub) SetLatestID(id int64) { h.noteLatest(id) }

// noteLatest records that every message up to id has been published.
func (h *Hub) noteLatest(id int64) {
	for {
		cur := h.latest.Load()
		if id <= cur || h.latest.CompareAndSwap(cur, id) {
			return
		}
	}
}

// Active records that user did something in one of their pages (typed,
// clicked, came back to a hidden tab): they are not away.
func (h *Hub) Active(user int64) {
	now := h.now()
	h.live.mu.Lock()
	defer h.live.mu.Unlock()
	p := h.live.people[user]
	if p == nil {
		if h.opt.RenderPresence == nil {
			return // nobody is told; nothing would clean it up
		}
		// Kept until the next presence flush even without a stream: a
		// page load reports activity just before its stream connects.
		p = &person{closed: now}
		h.live.people[user] = p
	}
	p.active = now
}

// Presence is user's presence as their rooms were last told it, for a
// page being rendered: every later change reaches the page as an event,
// whereas a state not yet told could change back before the next flush,
// which would then say nothing and leave the page wrong.
func (h *Hub) Presence(user int64) chat.Presence {
	h.live.mu.Lock()
	defer h.live.mu.Unlock()
	if p := h.live.people[user]; p != nil {
		return p.shown
	}
	return chat.PresenceOffline
}

// Typing records that user, shown as name, is typing in room; it lasts
// TypingFor unless renewed. It reports false, and records nothing, for
// someone who is not a member of room. Typing is activity too.
func (h *Hub) Typing(room, user int64, name string) bool {
	h.mu.RLock()
	_, member := h.rooms[room][user]
	h.mu.RUnlock()
	if !member || user <= 0 {
		return false
	}
	h.Active(user)
	now := h.now()
	h.live.mu.Lock()
	defer h.live.mu.Unlock()
	set := h.live.typing[room]
	if set == nil {
		set = make(map[int64]typist)
		h.live.typing[room] = set
	}
	t, renewed := set[user]
	if !renewed {
		t.since = now
		h.live.changed[room] = struct{}{}
	}
	t.name, t.until = name, now.Add(h.opt.TypingFor)
	set[user] = t
	return true
}

// StoppedTyping ends user's typing in room at once: they sent their
// message, or left.
func (h *Hub) StoppedTyping(room, user int64) {
	h.live.mu.Lock()
	defer h.live.mu.Unlock()
	if _, ok := h.live.typing[room][user]; ok {
		delete(h.live.typing[room], user)
		h.live.changed[room] = struct{}{}
	}
}

// flushTyping drops typing that expired and publishes, for each room whose
// typists changed, one event listing them all.
func (h *Hub) flushTyping(now time.Time) {
	type update struct {
		room    int64
		typists []chat.Typist
	}
	var updates []update
	l := h.live
	l.mu.Lock()
	for room, set := range l.typing {
		for user, t := range set {
			if !now.Before(t.until) {
				delete(set, user)
				l.changed[room] = struct{}{}
			}
		}
		if len(set) == 0 {
			delete(l.typing, room)
		}
	}
	for room := range l.changed {
		updates = append(updates, update{room, typistsOf(l.typing[room])})
	}
	clear(l.changed)
	l.mu.Unlock()
	for _, u := range updates {
		h.publishLive(u.room, TypingEvent, h.opt.RenderTyping(u.room, u.typists))
	}
}

// typistsOf lists a room's typists in the order they started.
func typistsOf(set map[int64]typist) []chat.Typist {
	type entry struct {
		id int64
		t  typist
	}
	all := make([]entry, 0, len(set))
	for id, t := range set {
		all = append(all, entry{id, t})
	}
	slices.SortFunc(all, func(a, b entry) int {
		return cmp.Or(a.t.since.Compare(b.t.since), cmp.Compare(a.id, b.id))
	})
	out := make([]chat.Typist, len(all))
	for i, e := range all {
		out[i] = chat.Typist{ID: e.id, Name: e.t.name}
	}
	return out
}

// flushPresence finds whose presence changed since the last flush and
// publishes one event per room they are in, listing that room's changes.
func (h *Hub) flushPresence(now time.Time) {
	defer h.resendPresence()
	changes := h.presenceChanges(now)
	if len(changes) == 0 {
		return
	}
	byRoom := make(map[int64][]chat.PresenceChange)
	h.mu.RLock()
	for _, c := range changes {
		for room := range h.memberOf[c.User] {
			byRoom[room] = append(byRoom[room], c)
		}
	}
	h.mu.RUnlock()
	for _, room := range slices.Sorted(maps.Keys(byRoom)) { // in a fixed order: easier to follow
		h.publishLive(room, PresenceEvent, h.opt.RenderPresence(room, byRoom[room]))
	}
}

// resendPresence sends each connection that went without a room's
// presence event (its queue was full) the room's presence whole, as shown
// now: an event lists only changes, so without this a dot would stay wrong
// until that person's next change. One event per room, for all of them;
// one that does not fit again is tried at the next flush.
func (h *Hub) resendPresence() {
	type missing struct {
		user int64
		c    *conn
	}
	var stale []missing
	h.mu.RLock()
	for uid, u := range h.users {
		for _, c := range u.conns {
			if c.missing.Load() {
				stale = append(stale, missing{uid, c})
			}
		}
	}
	h.mu.RUnlock()
	whole := make(map[int64]*Event)
	for _, m := range stale {
		for room := range m.c.takeMissed() {
			ev, ok := whole[room]
			if !ok {
				ev = h.wholePresence(room)
				whole[room] = ev
			}
			if ev != nil {
				h.offerPresence(room, m.user, m.c, ev)
			}
		}
	}
}

// offerPresence offers ev to c if its user is still in room and takes
// live events, checked under the same lock as the offer (as
// publishLiveTo does): light mode turned on in between must hold.
func (h *Hub) offerPresence(room, user int64, c *conn, ev *Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if _, ok := h.takesLive(room, user); ok && !h.closed {
		c.offer(ev)
	}
}

// wholePresence is room's presence event listing every member.
func (h *Hub) wholePresence(room int64) *Event {
	h.mu.RLock()
	members := make([]int64, 0, len(h.rooms[room]))
	for uid := range h.rooms[room] {
		if uid > 0 { // not the room's guests
			members = append(members, uid)
		}
	}
	h.mu.RUnlock()
	slices.Sort(members)
	all := make([]chat.PresenceChange, len(members))
	for i, uid := range members {
		all[i] = chat.PresenceChange{User: uid, State: h.Presence(uid)}
	}
	return h.liveEvent(room, PresenceEvent, h.opt.RenderPresence(room, all))
}

// presenceChanges marks every person's current state as shown and returns
// those that differ from what was shown before, by user id.
func (h *Hub) presenceChanges(now time.Time) []chat.PresenceChange {
	var changes []chat.PresenceChange
	l := h.live
	l.mu.Lock()
	defer l.mu.Unlock()
	for user, p := range l.people {
		s := p.state(now, h.opt.AwayAfter, h.opt.OfflineAfter)
		if s != p.shown {
			changes = append(changes, chat.PresenceChange{User: user, State: s})
			p.shown = s
		}
		if p.open == 0 && s == chat.PresenceOffline {
			delete(l.people, user)
		}
	}
	slices.SortFunc(changes, func(a, b chat.PresenceChange) int { return cmp.Compare(a.User, b.User) })
	return changes
}

// A live event reaches a big room's members in steps of liveStep, with a
// pause of livePause between (a thousand members: 40 steps, 0.2 s).
// Unlike a message it can wait that long, and fanning it out to a thousand
// streams at once (each delivery is a write of its own) would hold back
// the messages published in that moment, which is what a message's tail
// latency is made of. A flush with more steps than fit its interval only
// makes the next flush later: the events stay coalesced.
const (
	liveStep  = 25
	livePause = 5 * time.Millisecond
)

// publishLive sends a typing or presence event to room's members who have
// a stream open, but for light ones (see Options.Light) and guests. Its id
// is the newest message id already published (see SetLatestID).
func (h *Hub) publishLive(room int64, name string, data []byte) (reached int) {
	ev := h.liveEvent(room, name, data)
	if ev == nil {
		return 0
	}
	targets := h.liveTargets(room)
	for len(targets) > 0 {
		step := targets[:min(liveStep, len(targets))]
		targets = targets[len(step):]
		reached += h.publishLiveTo(room, step, ev)
		if len(targets) > 0 && !h.pause(livePause) {
			break // closing
		}
	}
	return reached
}

// liveEvent is a typing or presence event for room: lossy, with the
// newest message id already published (see SetLatestID).
func (h *Hub) liveEvent(room int64, name string, data []byte) *Event {
	ev := newEvent(h.latest.Load(), name, data)
	if ev != nil {
		ev.lossy = true
		if name == PresenceEvent {
			ev.presenceOf = room
		}
	}
	return ev
}

// takesLive returns uid's user if they are in room and take live events
// (not light, not a guest); the caller holds h.mu.
func (h *Hub) takesLive(room, uid int64) (*user, bool) {
	_, member := h.rooms[room][uid]
	u := h.users[uid]
	return u, member && uid > 0 && u != nil && u.wantsLive()
}

// liveTargets lists the members of room that take live events now.
func (h *Hub) liveTargets(room int64) []int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []int64
	for uid := range h.rooms[room] {
		if u, ok := h.takesLive(room, uid); ok && len(u.conns) > 0 {
			out = append(out, uid)
		}
	}
	return out
}

// publishLiveTo sends ev to those of users still in room and connected.
// A reader whose queue is full goes without it: typing and presence are
// only ever the latest word, the next event replaces it, and a burst of
// them must not cut a reader that keeps up with messages (only a message
// that does not fit does that).
func (h *Hub) publishLiveTo(room int64, users []int64, ev *Event) (reached int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return 0
	}
	for _, uid := range users {
		u, ok := h.takesLive(room, uid)
		if !ok || len(u.conns) == 0 {
			continue
		}
		if n, _ := u.offer(ev, nil, nil); n > 0 {
			reached++
			h.opt.Meter.Delivered(n)
		}
	}
	return reached
}

// pause waits d, or less if the hub is closing; it reports whether it
// waited all of d.
func (h *Hub) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-h.live.stop:
		return false
	}
}

// opened counts a new connection of user. The caller holds h.mu.
func (h *Hub) opened(user int64) {
	now := h.now()
	h.live.mu.Lock()
	defer h.live.mu.Unlock()
	p := h.live.people[user]
	if p == nil {
		p = &person{active: now} // opening a page is activity
		h.live.people[user] = p
	}
	p.open++
}

// gone counts a connection of user that ended. The caller holds h.mu.
func (h *Hub) gone(user int64) {
	now := h.now()
	h.live.mu.Lock()
	defer h.live.mu.Unlock()
	if p := h.live.people[user]; p != nil && p.open > 0 {
		p.open--
		if p.open == 0 {
			p.closed = now
			if h.opt.RenderPresence == nil {
				delete(h.live.people, user) // no flush will report it
			}
		}
	}
}

// joined and left keep user → rooms, which presence needs, beside
// room → users. The caller holds h.mu for writing.
func (h *Hub) joined(room, user int64) {
	if user <= 0 {
		return // a room's guests have no presence
	}
	rooms := h.memberOf[user]
	if rooms == nil {
		rooms = make(map[int64]struct{})
		h.memberOf[user] = rooms
	}
	rooms[room] = struct{}{}
}

func (h *Hub) left(room, user int64) {
	delete(h.memberOf[user], room)
	if len(h.memberOf[user]) == 0 {
		delete(h.memberOf, user)
	}
	h.StoppedTyping(room, user)
}

// saveData reports whether a request asks to save data (the Save-Data
// client hint): such a stream gets no typing or presence events.
func saveData(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("Save-Data")), "on")
}

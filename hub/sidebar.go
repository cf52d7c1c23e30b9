package hub

import "time"

// DefaultSidebarEvery is how often a connection that saves data gets the
// sidebar updates held for it.
const DefaultSidebarEvery = 5 * time.Second

// PublishSidebar sends user an update of their own sidebar about room (a
// read mark moved in another tab: the room's counts). Such an update is
// only ever the latest word about its room, so a connection that saves
// data (Save-Data, or its user chose light mode) gets them coalesced: the
// newest for each room, once every SidebarEvery, instead of one per
// change. Other connections get it at once. id must not run ahead of any
// message not yet published to user; it reports whether a connection of
// theirs took the update or holds it.
func (h *Hub) PublishSidebar(userID, room, id int64, data []byte) bool {
	ev := newEvent(id, "", data)
	if ev == nil {
		return false
	}
	var lagging []*conn
	n := 0
	h.mu.RLock()
	if u := h.users[userID]; u != nil && !h.closed {
		for _, c := range u.conns {
			switch {
			case c.light || u.chose:
				c.holdSidebar(room, ev.Data)
				n++
			case c.offer(ev) == queued:
				n++
			case !c.closingNow():
				lagging = append(lagging, c)
			}
		}
	}
	h.mu.RUnlock()
	h.cutLagging(lagging)
	return n > 0
}

// flushSidebars sends each connection the sidebar updates held for it,
// under the newest message id published: every message before them has
// been queued already.
func (h *Hub) flushSidebars(time.Time) {
	var held []*conn
	h.mu.RLock()
	for _, u := range h.users {
		for _, c := range u.conns {
			if c.hasSidebar() {
				held = append(held, c)
			}
		}
	}
	h.mu.RUnlock()
	id := h.latest.Load()
	for _, c := range held {
		for _, data := range c.takeSidebar() {
			if c.offer(newEvent(id, "", data)) == full {
				break // not a message: the next flush or a reconnect brings the counts
			}
		}
	}
}

// holdSidebar keeps data as the newest sidebar update about room.
func (c *conn) holdSidebar(room int64, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sidebar == nil {
		c.sidebar = make(map[int64][]byte)
	}
	c.sidebar[room] = data
}

func (c *conn) hasSidebar() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sidebar) > 0
}

// takeSidebar returns the updates held and holds none.
func (c *conn) takeSidebar() map[int64][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	held := c.sidebar
	c.sidebar = nil
	return held
}

// closingNow reports whether c is ending in order (or was cut): an update
// it did not take is no reason to cut it.
func (c *conn) closingNow() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing || c.killed.Load()
}

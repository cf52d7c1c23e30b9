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
	return h.publishToUser(userID, ev, func(u *user, c *conn) bool {
		if !c.light && !u.chose {
			return false
		}
		c.holdSidebar(room, ev.Data)
		return true
	})
}

// flushSidebars sends each connection the sidebar updates held for it,
// under the newest message id published: every message before them has
// been queued already.
func (h *Hub) flushSidebars(time.Time) {
	type updates struct {
		c    *conn
		held map[int64][]byte
	}
	var due []updates
	h.mu.RLock()
	for _, u := range h.users {
		for _, c := range u.conns {
			if held := c.takeSidebar(); len(held) > 0 {
				due = append(due, updates{c, held})
			}
		}
	}
	h.mu.RUnlock()
	id := h.latest.Load()
	for _, d := range due {
		d.c.sendSidebar(id, d.held)
	}
}

// sendSidebar queues held's updates under id. Those that do not fit are
// held again for the next flush (not a message: no reason to cut the
// connection), unless a newer one for their room came meanwhile.
func (c *conn) sendSidebar(id int64, held map[int64][]byte) {
	for room, data := range held {
		if c.offer(newEvent(id, "", data)) == full {
			break
		}
		delete(held, room)
	}
	if len(held) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.killed.Load() {
		return
	}
	if c.sidebar == nil {
		c.sidebar = held
		return
	}
	for room, data := range held {
		if _, newer := c.sidebar[room]; !newer {
			c.sidebar[room] = data
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

// takeSidebar returns the updates held and holds none.
func (c *conn) takeSidebar() map[int64][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	held := c.sidebar
	c.sidebar = nil
	return held
}

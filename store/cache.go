package store

import (
	"sync"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// cache keeps what nearly every request reads (its session, its user, a
// room's name) in memory. On SQLite this process makes nearly every change
// to them, so it updates or drops an entry whenever it writes one. Another
// process may write the same file (an admin command ending sessions,
// deactivating someone): the store notices within a second (watch.go) and
// flushes the whole cache. On a server engine other nodes change them all
// the time (a log-out there must end the session here at once), so the
// cache is off: every lookup reads the database.
//
// It exists because SQLite's page cache is shared by all connections
// behind one mutex, and every commit makes each reader reload its pages:
// under many concurrent posts, these small reads became the bottleneck.
type cache struct {
	off      bool // nothing is kept: see above
	mu       sync.RWMutex
	sessions map[string]cachedSession
	// gen counts ended sessions and flushes. An entry read from the
	// database is cached only if gen has not moved since the read began:
	// otherwise the read may have seen a row whose deletion or change was
	// committing, and caching it would bring an ended session (or an old
	// version of a user) back to life.
	gen   uint64
	users map[int64]chat.User
	rooms map[int64]chat.Room // id, kind and name only
}

type cachedSession struct {
	data   []byte
	expiry time.Time
}

// maxCachedSessions bounds memory; past it a random entry makes room.
const maxCachedSessions = 100_000

func newCache(off bool) *cache {
	return &cache{off: off, sessions: map[string]cachedSession{}, users: map[int64]chat.User{}, rooms: map[int64]chat.Room{}}
}

func (c *cache) session(token string, now time.Time) ([]byte, bool) {
	if c.off {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.sessions[token]
	c.mu.RUnlock()
	if !ok || !e.expiry.After(now) {
		return nil, false
	}
	return e.data, true
}

// generation is read before an entry is looked up or written in the
// database, and handed to the put afterwards.
func (c *cache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// putSession caches a session read or written while the generation was
// gen; it does nothing if a session ended meanwhile.
func (c *cache) putSession(token string, data []byte, expiry time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off || gen != c.gen {
		return
	}
	if _, ok := c.sessions[token]; !ok && len(c.sessions) >= maxCachedSessions {
		for k := range c.sessions {
			delete(c.sessions, k)
			break
		}
	}
	c.sessions[token] = cachedSession{data: data, expiry: expiry}
}

// forgetSession drops a cached session whose stored state is uncertain.
func (c *cache) forgetSession(token string) {
	c.mu.Lock()
	delete(c.sessions, token)
	c.mu.Unlock()
}

// endSession forgets a session whose end has been committed, and makes
// every fill that began before now a no-op.
func (c *cache) endSession(token string) {
	c.mu.Lock()
	c.gen++
	delete(c.sessions, token)
	c.mu.Unlock()
}

// flush forgets every entry, and makes every fill that began before now
// a no-op: another process changed the database.
func (c *cache) flush() {
	c.mu.Lock()
	c.gen++
	clear(c.sessions)
	clear(c.users)
	clear(c.rooms)
	c.mu.Unlock()
}

func (c *cache) user(id int64) (chat.User, bool) {
	if c.off {
		return chat.User{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	u, ok := c.users[id]
	return u, ok
}

// putUser caches u, read while the generation was gen.
func (c *cache) putUser(u chat.User, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off || gen != c.gen {
		return
	}
	c.users[u.ID] = u
}

// userChanged caches u as a write just committed it, and makes every fill
// that began before now a no-op: it may hold u's previous version.
func (c *cache) userChanged(u chat.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if !c.off {
		c.users[u.ID] = u
	}
}

func (c *cache) roomName(id int64) (chat.Room, bool) {
	if c.off {
		return chat.Room{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.rooms[id]
	return r, ok
}

// putRoomName caches r, read while the generation was gen.
func (c *cache) putRoomName(r chat.Room, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off || gen != c.gen {
		return
	}
	c.rooms[r.ID] = r
}

// dropRoomName forgets a room whose name changed, and makes every fill
// that began before now a no-op.
func (c *cache) dropRoomName(id int64) {
	c.mu.Lock()
	c.gen++
	delete(c.rooms, id)
	c.mu.Unlock()
}

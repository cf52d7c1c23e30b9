package redisbus

import (
	"encoding/binary"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Typing and presence between nodes. Typing goes as its signals (each
// node's hub coalesces and renders them for its own members); presence
// goes as each node's list of who has a page open there, shared every
// ShareEvery and valid for three of those, so a node that dies stops
// counting within seconds without telling anyone. The list doubles as
// the node's heartbeat.

// Typing records on every node that user, shown as name, is typing in
// room. It reports false, and sends nothing, for a non-member.
func (b *Bus) Typing(room, user int64, name string) bool {
	if !b.local.Typing(room, user, name) {
		return false
	}
	b.enqueue(body{op: opTyping, a: room, b: user, data: []byte(name)})
	return true
}

// StoppedTyping ends user's typing in room on every node.
func (b *Bus) StoppedTyping(room, user int64) {
	b.local.StoppedTyping(room, user)
	b.enqueue(body{op: opStoppedTyping, a: room, b: user})
}

// share sends who has a page open here every ShareEvery until Close,
// even nobody: it is also how the others know this node is alive (see
// silentNodes).
func (b *Bus) share() {
	t := time.NewTicker(b.opt.ShareEvery)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
		}
		valid := 3 * b.opt.ShareEvery
		b.enqueue(body{op: opHere, a: valid.Milliseconds(), data: appendSeen(nil, b.local.Here())})
	}
}

// appendSeen packs who and when: a varint user id and a varint Unix
// millisecond each.
func appendSeen(buf []byte, seen []chat.Seen) []byte {
	for _, s := range seen {
		buf = binary.AppendVarint(buf, s.User)
		buf = binary.AppendVarint(buf, s.Active.UnixMilli())
	}
	return buf
}

func readSeen(p []byte) ([]chat.Seen, error) {
	var out []chat.Seen
	for len(p) > 0 {
		user, n := binary.Varint(p)
		if n <= 0 {
			return nil, errEnvelope
		}
		p = p[n:]
		active, n := binary.Varint(p)
		if n <= 0 {
			return nil, errEnvelope
		}
		p = p[n:]
		out = append(out, chat.Seen{User: user, Active: time.UnixMilli(active)})
	}
	return out, nil
}

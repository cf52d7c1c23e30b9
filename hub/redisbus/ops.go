package redisbus

import "time"

// Each method applies its op to this node's hub first, then queues it for
// the others: local readers never wait on Redis, nor lose anything to it.

// Publish sends a rendered event to every connected member of room, on
// every node.
func (b *Bus) Publish(room, id int64, data []byte) {
	b.local.Publish(room, id, data)
	b.enqueue(body{op: opPublish, a: room, id: id, data: data})
}

// PublishExcept is Publish to all of room's members but one. It reports
// how many users it reached on this node only: other nodes apply it later
// and report what reached someone there to their own Options.Delivered.
func (b *Bus) PublishExcept(room, except, id int64, data []byte) (reached int) {
	reached = b.local.PublishExcept(room, except, id, data)
	b.enqueue(body{op: opPublishExcept, a: room, b: except, id: id, data: data})
	return reached
}

// PublishTo sends an event to one user's streams on every node. It
// reports whether a stream of theirs on this node took it.
func (b *Bus) PublishTo(user, id int64, data []byte) bool {
	ok := b.local.PublishTo(user, id, data)
	b.enqueue(body{op: opPublishTo, a: user, id: id, data: data})
	return ok
}

// PublishSidebar sends one user's sidebar update about room to their
// streams on every node (see hub.Hub.PublishSidebar).
func (b *Bus) PublishSidebar(user, room, id int64, data []byte) bool {
	ok := b.local.PublishSidebar(user, room, id, data)
	b.enqueue(body{op: opPublishSidebar, a: user, b: room, id: id, data: data})
	return ok
}

// Join records on every node that user is a member of room.
func (b *Bus) Join(room, user int64) {
	b.local.Join(room, user)
	b.enqueue(body{op: opJoin, a: room, b: user})
}

// Leave records on every node that user left room, cutting their streams
// there as the hub does.
func (b *Bus) Leave(room, user int64) {
	b.local.Leave(room, user)
	b.enqueue(body{op: opLeave, a: room, b: user})
}

// EndSession closes the streams that session opened, on every node. The
// token travels to Redis; by now it is no longer valid anywhere.
func (b *Bus) EndSession(user int64, session string) {
	b.local.EndSession(user, session)
	b.enqueue(body{op: opEndSession, a: user, data: []byte(session)})
}

// Disconnect ends all of user's streams on every node.
func (b *Bus) Disconnect(user int64) {
	b.local.Disconnect(user)
	b.enqueue(body{op: opDisconnect, a: user})
}

// SetLight tells every node that user turned light mode on or off.
func (b *Bus) SetLight(user int64, on bool) {
	b.local.SetLight(user, on)
	var v int64
	if on {
		v = 1
	}
	b.enqueue(body{op: opLight, a: user, b: v})
}

// apply runs an op from another node on this node's hub.
func (b *Bus) apply(e envelope) {
	switch e.op {
	case opPublish:
		b.local.Publish(e.a, e.id, e.data)
	case opPublishExcept:
		// Announcement copies go this way: one reaching a recipient here
		// is delivered, which only this node can tell.
		if b.local.PublishExcept(e.a, e.b, e.id, e.data) > 0 && b.opt.Delivered != nil {
			b.opt.Delivered(e.id)
		}
	case opPublishTo:
		b.local.PublishTo(e.a, e.id, e.data)
	case opPublishSidebar:
		b.local.PublishSidebar(e.a, e.b, e.id, e.data)
	case opJoin:
		b.local.Join(e.a, e.b)
	case opLeave:
		b.local.Leave(e.a, e.b)
	case opEndSession:
		b.local.EndSession(e.a, string(e.data))
	case opDisconnect:
		b.local.Disconnect(e.a)
	case opLight:
		b.local.SetLight(e.a, e.b == 1)
	case opTyping:
		b.local.Typing(e.a, e.b, string(e.data))
	case opStoppedTyping:
		b.local.StoppedTyping(e.a, e.b)
	case opHere:
		seen, err := readSeen(e.data)
		if err != nil {
			b.log.Warn("bus: ignoring a presence list", "err", err)
			return
		}
		b.local.Elsewhere(seen, time.Now().Add(time.Duration(e.a)*time.Millisecond))
	}
}

package redisbus

import (
	"encoding/binary"
	"errors"
)

// op is what an envelope asks every other node's hub to do.
type op byte

const (
	opPublish        op = iota + 1 // a: room, id, data
	opPublishExcept                // a: room, b: except, id, data
	opPublishTo                    // a: user, id, data
	opJoin                         // a: room, b: user
	opLeave                        // a: room, b: user
	opEndSession                   // a: user, data: session token
	opDisconnect                   // a: user
	opLight                        // a: user, b: 1 on, 0 off
	opResync                       // the sender lost ops made from a to b (Unix ms): catch up from the database
	opTyping                       // a: room, b: user, data: their name
	opStoppedTyping                // a: room, b: user
	opHere                         // a: for how many ms it holds, data: who has a page open on the sender (appendSeen)
	opPublishSidebar               // a: user, b: room, id, data
	lastOp                         // not an op: one past the last
)

// version leads every envelope, so a node can refuse one from a newer
// release instead of misreading it.
const version = 1

// body is one op before its header: the sender's goroutine adds the
// header (origin and sequence number) when it publishes.
type body struct {
	op   op
	a, b int64
	id   int64 // the event id (SSE id) the hub will send
	data []byte
}

// envelope is an op as it travels: who sent it, its place in the sender's
// sequence, and the op.
type envelope struct {
	origin uint64
	seq    uint64
	body
}

// Layout: version, op, origin (8 bytes), seq (uvarint), a, b, id
// (varints), then data to the end. Compact and copy-free to read.
func (e *envelope) appendTo(buf []byte) []byte {
	buf = append(buf, version, byte(e.op))
	buf = binary.BigEndian.AppendUint64(buf, e.origin)
	buf = binary.AppendUvarint(buf, e.seq)
	buf = binary.AppendVarint(buf, e.a)
	buf = binary.AppendVarint(buf, e.b)
	buf = binary.AppendVarint(buf, e.id)
	return append(buf, e.data...)
}

var errEnvelope = errors.New("redisbus: malformed envelope")

// decode reads an envelope; data aliases p.
func decode(p []byte) (envelope, error) {
	var e envelope
	if len(p) < 10 || p[0] != version || p[1] == 0 || op(p[1]) >= lastOp {
		return e, errEnvelope
	}
	e.op, e.origin = op(p[1]), binary.BigEndian.Uint64(p[2:10])
	p = p[10:]
	var n int
	if e.seq, n = binary.Uvarint(p); n <= 0 {
		return e, errEnvelope
	}
	p = p[n:]
	for _, v := range []*int64{&e.a, &e.b, &e.id} {
		if *v, n = binary.Varint(p); n <= 0 {
			return e, errEnvelope
		}
		p = p[n:]
	}
	e.data = p
	return e, nil
}

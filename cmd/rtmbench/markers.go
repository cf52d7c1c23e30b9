package main

import (
	"bytes"
	"strconv"
	"time"
)

// markers are what the generator looks for in a fragment, as a transport
// quotes it: where a benchmark text begins (it starts with "t" and its
// scheduled time), the "edited" label of an edited message, and the
// target of a reactions-only fragment (a message's fragment targets its
// room's log instead).
type markers struct{ body, edited, reaction []byte }

var sseMarkers = markers{
	body:     []byte(`class="body" dir="auto">t`),
	edited:   []byte(`<span class="edited"`),
	reaction: []byte(`<hx-upsert hx-target="#msg-`),
}

// socketMarkers are sseMarkers inside a WebSocket frame's JSON string.
var socketMarkers = markers{
	body:     bytes.ReplaceAll(sseMarkers.body, []byte(`"`), []byte(`\"`)),
	edited:   bytes.ReplaceAll(sseMarkers.edited, []byte(`"`), []byte(`\"`)),
	reaction: bytes.ReplaceAll(sseMarkers.reaction, []byte(`"`), []byte(`\"`)),
}

// event gathers what one event's data says, line by line.
type event struct {
	sent             time.Time
	seq              int64 // the post's number in its load, after the time
	edited, reaction bool
}

// scan notes what b, a data line or a whole frame, says.
func (m markers) scan(b []byte, ev *event) {
	if !ev.edited && ev.sent.IsZero() && bytes.Contains(b, m.edited) { // the label comes before the text
		ev.edited = true
	}
	if !ev.reaction && bytes.Contains(b, m.reaction) {
		ev.reaction = true
	}
	if i := bytes.Index(b, m.body); i >= 0 {
		rest := b[i+len(m.body):]
		if j := bytes.IndexByte(rest, 's'); j > 0 {
			if ns, err := strconv.ParseInt(string(rest[:j]), 10, 64); err == nil {
				ev.sent = time.Unix(0, ns)
			}
			rest = rest[j+1:]
			if k := bytes.IndexByte(rest, ' '); k > 0 {
				ev.seq, _ = strconv.ParseInt(string(rest[:k]), 10, 64)
			}
		}
	}
}

// delivery is the event with id as the generator counts it, if it does:
// a benchmark message, an edit of one, or a reaction.
func (ev event) delivery(id int64, at time.Time) (delivery, bool) {
	switch {
	case id <= 0:
		return delivery{}, false
	case ev.reaction:
		return delivery{id: id, kind: reaction, at: at}, true
	case ev.sent.IsZero():
		return delivery{}, false
	case ev.edited:
		return delivery{id: id, kind: edit, sent: ev.sent, seq: ev.seq, at: at}, true
	}
	return delivery{id: id, kind: message, sent: ev.sent, seq: ev.seq, at: at}, true
}

package hub

import (
	"bytes"
	"sync"
)

// Event is what a stream carries, whatever the transport: a rendered
// message fragment (Name empty), a named event, a heartbeat, or the end of
// the stream. Each transport encodes it once (see form), so every member of
// a room gets the same bytes.
type Event struct {
	// ID is the id a client resumes from: a message's own id, or for any
	// other event the newest message id published before it.
	ID   int64
	Name string
	Data []byte

	kind eventKind
	why  endReason // for an end event
	// lossy marks typing and presence: a connection with no room for one
	// goes without it rather than being cut (see publishLiveTo).
	lossy bool
	// presenceOf is a presence event's room: a connection that goes
	// without one is sent the room's presence whole later (resendPresence).
	presenceOf int64
	forms      [formCount]lazyForm
}

type eventKind uint8

const (
	kindData eventKind = iota
	kindHeartbeat
	kindEnd
)

// endReason says why a stream ends in order, after what was queued before
// it: the client's transport tells it apart (a WebSocket close code).
type endReason uint8

const (
	endResume    endReason = iota // reconnect and resume (shutdown, catching up)
	endSignedOut                  // the sign-in is over: do not reconnect
	endRefused                    // refused: do not reconnect
)

// form names an encoding of an event, made once per event and shared by
// every connection of that transport.
type form uint8

const (
	formSSE form = iota
	formWS
	formCount
)

type lazyForm struct {
	once sync.Once
	v    any
}

// form returns ev in form f, made by encode on first use.
func (ev *Event) form(f form, encode func(*Event) any) any {
	l := &ev.forms[f]
	l.once.Do(func() { l.v = encode(ev) })
	return l.v
}

// newEvent makes a data event, or nil when data is empty once its line
// breaks are normalised (an event without data means nothing to any
// client).
func newEvent(id int64, name string, data []byte) *Event {
	data = cleanData(data)
	if len(data) == 0 {
		return nil
	}
	return &Event{ID: id, Name: name, Data: data}
}

var (
	heartbeatEvent = &Event{kind: kindHeartbeat}
	endEvents      = [...]*Event{
		endResume:    {kind: kindEnd, why: endResume},
		endSignedOut: {kind: kindEnd, why: endSignedOut},
		endRefused:   {kind: kindEnd, why: endRefused},
	}
)

// cleanData normalises line breaks: an SSE line ends at \r, \n or \r\n, so
// a lone \r inside data would let text forge SSE fields; every transport
// gets the same normalised data.
func cleanData(b []byte) []byte {
	if bytes.IndexByte(b, '\r') >= 0 {
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		b = bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
	}
	return bytes.TrimRight(b, "\n")
}

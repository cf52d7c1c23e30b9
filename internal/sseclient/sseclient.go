// Package sseclient reads a Server-Sent Events stream the way the HTML
// specification says a browser does. Tests and the load generator use it to
// see exactly what a browser would see.
package sseclient

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"
)

// Event is one dispatched event.
type Event struct {
	// ID is the stream's last event id after this event, as a browser would
	// send it back in Last-Event-ID.
	ID string
	// Name is the event type; empty means the default "message".
	Name string
	Data string
	// At is when Background received the event (zero from Reader.Next).
	At time.Time
}

// IntID returns ID as a number, or -1 when it is not one.
func (e Event) IntID() int64 {
	n, err := strconv.ParseInt(e.ID, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// Reader parses events from a stream.
type Reader struct {
	br     *bufio.Reader
	lastID string // committed when an event block ends, as a browser does
	idBuf  string // the last id field seen
	// Comments counts comment lines seen (heartbeats).
	Comments int
	// Bytes counts bytes consumed from the stream.
	Bytes int64
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 16<<10)}
}

// LastEventID is what a browser would send on reconnect.
func (r *Reader) LastEventID() string { return r.lastID }

// Next returns the next dispatched event. Comments and blocks without data
// are consumed as the specification says (an id-only block still moves the
// last event id).
func (r *Reader) Next() (Event, error) {
	var data strings.Builder
	var name string
	hasData := false
	for {
		line, err := r.readLine()
		if err != nil {
			return Event{}, err
		}
		if line == "" {
			// Only a complete block moves the id: an id whose block was cut
			// short by a dropped connection was never received.
			r.lastID = r.idBuf
			if !hasData {
				name = ""
				continue
			}
			return Event{ID: r.lastID, Name: name, Data: strings.TrimSuffix(data.String(), "\n")}, nil
		}
		field, value, found := strings.Cut(line, ":")
		if field == "" {
			r.Comments++
			continue
		}
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch field {
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
			hasData = true
		case "event":
			name = value
		case "id":
			if !strings.ContainsRune(value, 0) {
				r.idBuf = value
			}
		}
	}
}

// readLine returns one line without its terminator: CRLF, LF or a lone CR.
func (r *Reader) readLine() (string, error) {
	var b []byte
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			return "", err
		}
		r.Bytes++
		switch c {
		case '\n':
			return string(b), nil
		case '\r':
			if next, err := r.br.Peek(1); err == nil && next[0] == '\n' {
				r.br.ReadByte()
				r.Bytes++
			}
			return string(b), nil
		}
		b = append(b, c)
	}
}

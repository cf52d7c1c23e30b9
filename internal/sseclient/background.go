package sseclient

import (
	"errors"
	"io"
	"time"
)

// ErrTimeout is returned by Next when no event arrives in time.
var ErrTimeout = errors.New("sseclient: no event in time")

// Background reads a stream on its own goroutine, so a caller can wait for
// the next event with a timeout, or check that none comes.
type Background struct {
	events chan Event
	err    error // set before events is closed
}

// Read starts reading r in the background until it fails or ends.
func Read(r io.Reader) *Background {
	b := &Background{events: make(chan Event, 1024)}
	go func() {
		rd := NewReader(r)
		for {
			ev, err := rd.Next()
			if err != nil {
				b.err = err
				close(b.events)
				return
			}
			ev.At = time.Now()
			b.events <- ev
		}
	}()
	return b
}

// Next returns the next event, the error that ended the stream, or
// ErrTimeout after d.
func (b *Background) Next(d time.Duration) (Event, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case ev, ok := <-b.events:
		if !ok {
			return Event{}, b.err
		}
		return ev, nil
	case <-t.C:
		return Event{}, ErrTimeout
	}
}

// Ended waits up to d for the stream to end, discarding events, and
// reports whether it did.
func (b *Background) Ended(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		_, err := b.Next(time.Until(deadline))
		switch {
		case err == ErrTimeout:
			return false
		case err != nil:
			return true
		}
	}
}

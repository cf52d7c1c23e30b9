package hub

import "context"

// queueOutlet is the queue of a connection whose events the hub writes
// itself (a WebSocket, a streamed document): a channel of events and a
// loop that hands each to the transport's frames.
type queueOutlet struct {
	queue  chan *Event
	frames frames
}

// frames is how a transport puts events on the wire.
type frames interface {
	// begin starts the response, before any event.
	begin()
	// write sends (or buffers) one event; an error ends the stream.
	write(ctx context.Context, ev *Event) error
	// flush sends what write buffered, once the queue has run dry.
	flush()
	cut()
	close(ended bool, why endReason)
}

func newQueueOutlet(size int, f frames) *queueOutlet {
	return &queueOutlet{queue: make(chan *Event, size), frames: f}
}

func (q *queueOutlet) offer(ev *Event) bool {
	select {
	case q.queue <- ev:
		return true
	default:
		return false
	}
}

func (q *queueOutlet) put(ctx context.Context, ev *Event) error {
	select {
	case q.queue <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (q *queueOutlet) serve(ctx context.Context, ready func()) {
	ready()
	q.frames.begin()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-q.queue:
			if ev.kind == kindEnd {
				q.frames.flush()
				return
			}
			if q.frames.write(ctx, ev) != nil {
				q.frames.cut()
				return
			}
			if len(q.queue) == 0 {
				q.frames.flush()
			}
		}
	}
}

// refused tells frames that care (a streamed document) that the stream
// was refused.
func (q *queueOutlet) refused() {
	if r, ok := q.frames.(interface{ refused() }); ok {
		r.refused()
	}
}

func (q *queueOutlet) cut()                            { q.frames.cut() }
func (q *queueOutlet) close(ended bool, why endReason) { q.frames.close(ended, why) }

package handlers

import (
	"bytes"
	"context"
	"sync"

	"github.com/rtmessenger/rtmessenger/chat"
)

// fragmentsKept is how many of the newest posts' fragments are kept: many
// more than commit between a post and its answer. A fragment over
// fragmentMaxKept (a long message full of markup) is rendered again
// rather than kept: the cache stays within about 16 MB.
const (
	fragmentsKept   = 1024
	fragmentMaxKept = 16 << 10
)

// Fragments keeps the stream fragments of the newest posts, so that each
// is rendered once: the relay renders a post for its stream, and the
// answer to it carries the same bytes (or the relay takes those the answer
// rendered, whichever comes first; if both miss at the same moment, both
// send the bytes kept first). Rendering it for both took about 5% of a
// post's CPU. A nil *Fragments renders each time.
type Fragments struct {
	mu     sync.Mutex
	byID   map[int64][]byte
	ids    [fragmentsKept]int64 // a ring of the keys of byID; next is the oldest
	next   int
	render func(context.Context, chat.Message) ([]byte, error)
}

// NewFragments returns an empty Fragments.
func NewFragments() *Fragments {
	return &Fragments{byID: make(map[int64][]byte, fragmentsKept), render: renderEvent}
}

// Message returns m's stream fragment. The bytes are shared: callers must
// not change them.
func (f *Fragments) Message(ctx context.Context, m chat.Message) ([]byte, error) {
	if f == nil {
		return renderEvent(ctx, m)
	}
	if m.Kind != chat.KindText || m.Changed != 0 || m.ID <= 0 {
		// Only a new post's fragment is kept: the answer to the post is
		// the one reuse. Announcement copies, system lines and changes
		// would push the posts out when many come at once.
		return f.render(ctx, m)
	}
	id := m.ID
	f.mu.Lock()
	data, ok := f.byID[id]
	f.mu.Unlock()
	if ok {
		return data, nil
	}
	data, err := f.render(ctx, m)
	if err != nil || len(data) > fragmentMaxKept {
		return data, err
	}
	data = bytes.Clone(data) // not the rest of the render buffer
	f.mu.Lock()
	defer f.mu.Unlock()
	if kept, ok := f.byID[id]; ok {
		return kept, nil // rendered alongside: the same bytes, keep the first
	}
	if old := f.ids[f.next]; old != 0 {
		delete(f.byID, old)
	}
	f.ids[f.next] = id
	f.next = (f.next + 1) % fragmentsKept
	f.byID[id] = data
	return data, nil
}

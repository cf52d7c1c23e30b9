// Package docstream reads, in tests, an HTML document that a server
// streams and never ends (the live log of pages without script), as a
// browser would: text as it arrives, each read stamped with its time.
package docstream

import (
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// Reader reads a document on its own goroutine until it ends or fails.
type Reader struct {
	mu    sync.Mutex
	text  strings.Builder
	ended bool
	grew  chan struct{} // closed and replaced whenever text grows or ends
}

// Read starts reading r in the background.
func Read(r io.Reader) *Reader {
	d := &Reader{grew: make(chan struct{})}
	go d.run(r)
	return d
}

func (d *Reader) run(r io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		d.mu.Lock()
		d.text.Write(buf[:n])
		d.ended = err != nil
		close(d.grew)
		d.grew = make(chan struct{})
		d.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// Text returns what has arrived so far.
func (d *Reader) Text() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.text.String()
}

// WaitFor waits up to limit for the document to contain want and returns
// what has arrived by then; it fails tb if want does not come.
func (d *Reader) WaitFor(tb testing.TB, want string, limit time.Duration) string {
	tb.Helper()
	text, ok := d.wait(limit, func(text string, _ bool) bool { return strings.Contains(text, want) })
	if !ok {
		tb.Fatalf("waited %v for %q in the document; it has:\n%s", limit, want, text)
	}
	return text
}

// Ended waits up to limit for the document to end and reports whether it
// did.
func (d *Reader) Ended(limit time.Duration) bool {
	_, ok := d.wait(limit, func(_ string, ended bool) bool { return ended })
	return ok
}

// wait returns the text once done says so, or when limit passes.
func (d *Reader) wait(limit time.Duration, done func(text string, ended bool) bool) (string, bool) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		d.mu.Lock()
		text, ended, grew := d.text.String(), d.ended, d.grew
		d.mu.Unlock()
		if done(text, ended) {
			return text, true
		}
		if ended {
			return text, false
		}
		select {
		case <-grew:
		case <-deadline.C:
			return text, false
		}
	}
}

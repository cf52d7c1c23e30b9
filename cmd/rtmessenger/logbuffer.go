package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logBuffer gathers log lines and writes them out together: `every` after
// the first line it holds, at once when it holds 32 KB, and at once after
// a warning or an error (see urgentFlush). A busy server then makes one
// write for many requests' access lines, not one each. A crash loses at
// most the last `every` of lines.
type logBuffer struct {
	mu      sync.Mutex
	w       io.Writer
	buf     []byte
	every   time.Duration
	pending bool // a timed flush is on its way
}

const logBufferSize = 32 << 10

func newLogBuffer(w io.Writer, every time.Duration) *logBuffer {
	return &logBuffer{w: w, every: every}
}

// Write takes one whole line (slog writes each record at once).
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	switch {
	case len(b.buf) >= logBufferSize:
		b.flushLocked()
	case !b.pending:
		b.pending = true
		time.AfterFunc(b.every, b.timedFlush)
	}
	return len(p), nil
}

// Flush writes out what the buffer holds.
func (b *logBuffer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *logBuffer) timedFlush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = false
	b.flushLocked()
}

func (b *logBuffer) flushLocked() {
	if len(b.buf) == 0 {
		return
	}
	b.w.Write(b.buf) // a log that cannot be written has no one to tell
	if cap(b.buf) > 4*logBufferSize {
		b.buf = nil // a burst's buffer is not kept
	} else {
		b.buf = b.buf[:0]
	}
}

// urgentFlush writes a warning or an error out at once, with everything
// before it: the lines someone is waiting to see.
type urgentFlush struct {
	slog.Handler
	buf *logBuffer
}

func (h urgentFlush) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.buf.Flush()
	}
	return err
}

func (h urgentFlush) WithAttrs(attrs []slog.Attr) slog.Handler {
	return urgentFlush{h.Handler.WithAttrs(attrs), h.buf}
}

func (h urgentFlush) WithGroup(name string) slog.Handler {
	return urgentFlush{h.Handler.WithGroup(name), h.buf}
}

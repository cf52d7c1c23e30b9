package main

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncWriter records writes and tells of each.
type syncWriter struct {
	mu     sync.Mutex
	writes []string
	wrote  chan struct{}
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, string(p))
	w.mu.Unlock()
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *syncWriter) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

func TestLogLinesGoOutTogetherAndWarningsAtOnce(t *testing.T) {
	w := &syncWriter{wrote: make(chan struct{}, 1)}
	buf := newLogBuffer(w, time.Hour) // no timed flush within the test but the one below
	log := newLogger(config{logLevel: slog.LevelInfo}, buf)
	log.Info("request", "n", 1)
	log.Info("request", "n", 2)
	if got := w.all(); len(got) != 0 {
		t.Fatalf("info lines went out one by one: %q", got)
	}
	log.Warn("slow", "n", 3)
	got := w.all()
	if len(got) != 1 || strings.Count(got[0], "\n") != 3 || !strings.Contains(got[0], "n=1") || !strings.Contains(got[0], "level=WARN") {
		t.Fatalf("a warning must take everything before it out in one write, in order: %q", got)
	}

	// A full buffer goes out at once; Flush takes the rest.
	line := strings.Repeat("x", 1000)
	for range logBufferSize/1000 + 1 {
		log.Info(line)
	}
	if n := len(w.all()); n != 2 {
		t.Fatalf("%d writes after filling the buffer, want 2", n)
	}
	log.Info("last")
	buf.Flush()
	if got := w.all(); !strings.Contains(got[len(got)-1], "msg=last") {
		t.Fatalf("Flush left %q", got[len(got)-1])
	}
}

func TestAQuietLogIsWrittenSoon(t *testing.T) {
	w := &syncWriter{wrote: make(chan struct{}, 1)}
	log := newLogger(config{logLevel: slog.LevelInfo}, newLogBuffer(w, time.Millisecond))
	log.Info("ready")
	select {
	case <-w.wrote:
	case <-time.After(10 * time.Second): // a deadline, not a measure: the flush is due in 1 ms
		t.Fatal("a lone line was never written")
	}
	if got := w.all(); len(got) != 1 || !bytes.Contains([]byte(got[0]), []byte("msg=ready")) {
		t.Fatalf("wrote %q", got)
	}
}

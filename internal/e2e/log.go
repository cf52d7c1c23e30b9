package e2e

import (
	"regexp"
	"strings"
	"sync"
)

// maxLines bounds the log kept per server process; a test's server logs a
// few hundred lines at most, so this only guards against a runaway.
const maxLines = 20000

// lines keeps a server's output for failure messages.
type lines struct {
	mu   sync.Mutex
	all  []string
	lost int // dropped from the front once maxLines were kept
}

func (l *lines) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.all) == maxLines {
		l.all = l.all[1:]
		l.lost++
	}
	l.all = append(l.all, s)
}

// tail returns the last n lines.
func (l *lines) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.all[max(0, len(l.all)-n):], "\n")
}

// race returns the race detector's reports in the output, or "". The
// binary also exits with status 66 after one, but the report is what a
// person needs to see.
func (l *lines) race() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, s := range l.all {
		if strings.Contains(s, "WARNING: DATA RACE") {
			return strings.Join(l.all[i:], "\n")
		}
	}
	return ""
}

// find returns the first line re matches, or "".
func (l *lines) find(re *regexp.Regexp) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.all {
		if re.MatchString(s) {
			return s
		}
	}
	return ""
}

package browsertest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Wire counts the bytes a tab receives, as the browser counts them on the
// wire (compressed, with the response headers of finished requests).
type Wire struct {
	mu       sync.Mutex
	urls     map[network.RequestID]string
	received map[network.RequestID]int64 // a finished request's total, or what arrived so far
}

// MeterWire starts counting what tab receives from now on.
func MeterWire(t *testing.T, tab context.Context) *Wire {
	t.Helper()
	w := &Wire{urls: map[network.RequestID]string{}, received: map[network.RequestID]int64{}}
	err := chromedp.Listen(tab, func(ev any) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			w.urls[e.RequestID] = e.Request.URL
		case *network.EventDataReceived:
			w.received[e.RequestID] += e.EncodedDataLength
		case *network.EventLoadingFinished:
			w.received[e.RequestID] = int64(e.EncodedDataLength)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// Total is every byte received so far.
func (w *Wire) Total() int64 { return w.sum(func(string) bool { return true }) }

// To is what the requests whose URL contains part received so far.
func (w *Wire) To(part string) int64 {
	return w.sum(func(url string) bool { return strings.Contains(url, part) })
}

// Report lists what each URL received so far, largest first, for a
// failure message.
func (w *Wire) Report() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	byURL := map[string]int64{}
	for id, b := range w.received {
		byURL[w.urls[id]] += b
	}
	urls := slices.SortedFunc(maps.Keys(byURL), func(a, b string) int { return cmp.Compare(byURL[b], byURL[a]) })
	var out strings.Builder
	for _, u := range urls {
		fmt.Fprintf(&out, "\n  %7d B  %s", byURL[u], u)
	}
	return out.String()
}

func (w *Wire) sum(match func(url string) bool) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var n int64
	for id, b := range w.received {
		if match(w.urls[id]) {
			n += b
		}
	}
	return n
}

// Package metrics keeps RT Messenger's Prometheus metrics and serves them
// in the text format, for the private debug address only.
//
// The packages it measures do not import it: each declares the hook it
// calls (store.Meter, handlers.Meter, handlers.Relay.MeterWaits; the hub's
// calls are HubMeter's methods), and cmd/rtmessenger hands them a
// *Metrics. What is cheaper to read when scraped (stream counts, queue
// lengths, file sizes, the refusals limiters count) is registered there
// with Gauge and CounterOf. Counting costs an atomic add, a histogram
// observation one short lock; no label ever names a user or a room.
package metrics

import (
	"net/http"
	"sync"

	vm "github.com/VictoriaMetrics/metrics"
)

// Metrics is one server's set of metrics. Its methods are safe for
// concurrent use.
type Metrics struct {
	set *vm.Set

	mu      sync.Mutex
	refresh []func() // copy counters read at scrape time from their sources

	messageMetrics
	storeMetrics
	hub *HubMeter
}

// latency is the bucket list of every duration histogram, in seconds:
// from 1 ms, where a commit on a fast disk lands, to 5 s, past any
// timeout a user would sit through.
var latency = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// New makes an empty set of metrics with every counter and histogram
// that the hooks feed.
func New() *Metrics {
	// TYPE lines let Prometheus tell histograms and counters from gauges.
	// The switch is the library's, for the whole process: every set here
	// is served the same way.
	vm.ExposeMetadata(true)
	m := &Metrics{set: vm.NewSet()}
	m.messageMetrics = newMessageMetrics(m.set)
	m.storeMetrics = newStoreMetrics(m.set)
	m.hub = newHubMeter(m.set)
	return m
}

// Handler serves the metrics, and the Go runtime's and the process's
// (memory, CPU, open files), in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		for _, f := range m.refresh {
			f()
		}
		m.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		m.set.WritePrometheus(w)
		vm.WriteProcessMetrics(w)
	})
}

// Gauge registers a gauge whose value f reads at each scrape. f must be
// quick and safe to call from any goroutine.
func (m *Metrics) Gauge(name string, f func() float64) {
	m.set.NewGauge(name, f)
}

// CounterOf registers a counter whose value f reads at each scrape, for
// a count kept elsewhere (it must never go down). name ends in _total.
func (m *Metrics) CounterOf(name string, f func() int64) {
	c := m.set.NewCounter(name)
	m.mu.Lock()
	m.refresh = append(m.refresh, func() { c.Set(uint64(max(f(), 0))) })
	m.mu.Unlock()
}

// other is the label value of anything outside a family's fixed set.
const other = "other"

// labeled is one family of counters or gauges with a fixed set of label
// values, made up front: counting is a map read and an atomic add, and a
// value outside the set counts as "other", so no label grows without bound.
type labeled[T any] map[string]T

func newLabeled[T any](newMetric func(name string) T, family, label string, values ...string) labeled[T] {
	l := labeled[T]{}
	for _, v := range append(values, other) {
		l[v] = newMetric(family + "{" + label + "=\"" + v + "\"}")
	}
	return l
}

func (l labeled[T]) of(value string) T {
	if c, ok := l[value]; ok {
		return c
	}
	return l[other]
}

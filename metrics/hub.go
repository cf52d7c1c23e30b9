package metrics

import vm "github.com/VictoriaMetrics/metrics"

// HubMeter is what the hub reports (hub.Options.Meter): streams open by
// transport, deliveries and cut-off readers. Each method is an atomic add.
type HubMeter struct {
	open      labeled[*vm.Gauge]
	delivered *vm.Counter
	cut       labeled[*vm.Counter]
}

// Hub is what the hub reports its metrics through.
func (m *Metrics) Hub() *HubMeter { return m.hub }

func newHubMeter(set *vm.Set) *HubMeter {
	gauge := func(name string) *vm.Gauge { return set.NewGauge(name, nil) }
	return &HubMeter{
		open:      newLabeled(gauge, "rtm_streams_open", "transport", "sse", "ws", "doc"),
		delivered: set.NewCounter("rtm_deliveries_total"),
		cut:       newLabeled(set.NewCounter, "rtm_stream_cutoffs_total", "reason", "queue_full", "write_timeout", "ping_timeout", "shutdown"),
	}
}

// StreamOpened counts a stream connection that began, by transport: "sse",
// "ws" or "doc" (the no-script document stream).
func (h *HubMeter) StreamOpened(transport string) { h.open.of(transport).Inc() }

// StreamClosed counts one that ended; call it once for each StreamOpened.
func (h *HubMeter) StreamClosed(transport string) { h.open.of(transport).Dec() }

// Delivered counts events handed to n stream connections.
func (h *HubMeter) Delivered(n int) { h.delivered.Add(n) }

// CutOff counts a connection cut off, by reason: "queue_full" (a reader
// too slow for its queue), "write_timeout", "ping_timeout", "shutdown".
func (h *HubMeter) CutOff(reason string) { h.cut.of(reason).Inc() }

package metrics

import (
	"time"

	vm "github.com/VictoriaMetrics/metrics"
)

// messageMetrics are the handlers' metrics (handlers.Meter) and the relay's.
type messageMetrics struct {
	accepted    *vm.Counter
	postSeconds *vm.PrometheusHistogram
	refused     labeled[*vm.Counter]
	crossOrigin *vm.Counter
	replays     *vm.Counter
	replayed    *vm.Counter
	resets      labeled[*vm.Counter]
	relayWait   *vm.PrometheusHistogram
}

func newMessageMetrics(set *vm.Set) messageMetrics {
	return messageMetrics{
		accepted:    set.NewCounter("rtm_messages_accepted_total"),
		postSeconds: set.NewPrometheusHistogramExt("rtm_message_post_duration_seconds", latency),
		refused: newLabeled(set.NewCounter, "rtm_messages_refused_total", "reason",
			"invalid", "too_large", "rate_limited", "not_member", "no_room", "conflict", "signed_out", "error"),
		crossOrigin: set.NewCounter("rtm_cross_origin_refused_total"),
		replays:     set.NewCounter("rtm_stream_replays_total"),
		replayed:    set.NewCounter("rtm_stream_replayed_messages_total"),
		resets:      newLabeled(set.NewCounter, "rtm_stream_resets_total", "reason", "unknown_resume_point", "too_much_missed", "deleted"),
		relayWait:   set.NewPrometheusHistogramExt("rtm_relay_wait_seconds", latency),
	}
}

// MessagePosted counts an accepted message and how long it took
// (handlers.Meter).
func (m *messageMetrics) MessagePosted(took time.Duration) {
	m.accepted.Inc()
	m.postSeconds.Update(took.Seconds())
}

// MessageRefused counts a refused message by reason (handlers.Meter).
func (m *messageMetrics) MessageRefused(reason string) { m.refused.of(reason).Inc() }

// CrossOriginRefused counts a request refused as cross-site (handlers.Meter).
func (m *messageMetrics) CrossOriginRefused() { m.crossOrigin.Inc() }

// Replayed counts a resumed stream's replay (handlers.Meter).
func (m *messageMetrics) Replayed(n int) {
	m.replays.Inc()
	m.replayed.Add(n)
}

// StreamReset counts a stream told to reload, by reason (handlers.Meter).
func (m *messageMetrics) StreamReset(reason string) { m.resets.of(reason).Inc() }

// RelayWaited observes how long a commit waited for the relay
// (handlers.Relay.MeterWaits).
func (m *messageMetrics) RelayWaited(d time.Duration) { m.relayWait.Update(d.Seconds()) }

// storeMetrics are the store's metrics (store.Meter).
type storeMetrics struct {
	batchSize         *vm.PrometheusHistogram
	queueWait         *vm.PrometheusHistogram
	commitSeconds     *vm.PrometheusHistogram
	checkpointSeconds *vm.PrometheusHistogram
	truncations       *vm.Counter
}

func newStoreMetrics(set *vm.Set) storeMetrics {
	return storeMetrics{
		// Powers of two up to the writer's cap of 256 writes a batch.
		batchSize:         set.NewPrometheusHistogramExt("rtm_store_commit_batch_size", vm.ExponentialBuckets(1, 2, 9)),
		queueWait:         set.NewPrometheusHistogramExt("rtm_store_queue_wait_seconds", latency),
		commitSeconds:     set.NewPrometheusHistogramExt("rtm_store_commit_duration_seconds", latency),
		checkpointSeconds: set.NewPrometheusHistogramExt("rtm_store_checkpoint_duration_seconds", latency),
		truncations:       set.NewCounter("rtm_store_wal_truncations_total"),
	}
}

// Batch observes a committed batch (store.Meter).
func (s *storeMetrics) Batch(writes int, queued, took time.Duration) {
	s.batchSize.Update(float64(writes))
	s.queueWait.Update(queued.Seconds())
	s.commitSeconds.Update(took.Seconds())
}

// Checkpoint observes a background checkpoint (store.Meter).
func (s *storeMetrics) Checkpoint(took time.Duration, truncated bool) {
	s.checkpointSeconds.Update(took.Seconds())
	if truncated {
		s.truncations.Inc()
	}
}

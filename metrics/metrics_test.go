package metrics

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape returns every sample m serves, by series.
func scrape(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("scrape: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("a sample that is no number: %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func want(t *testing.T, got map[string]float64, series map[string]float64) {
	t.Helper()
	for name, v := range series {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", name, g, ok, v)
		}
	}
}

func TestHooksMoveTheirMetrics(t *testing.T) {
	m := New()
	m.MessagePosted(3 * time.Millisecond)
	m.MessagePosted(300 * time.Millisecond)
	m.MessageRefused("rate_limited")
	m.MessageRefused("no such reason")
	m.CrossOriginRefused()
	m.Replayed(4)
	m.StreamReset("too_much_missed")
	m.RelayWaited(time.Millisecond)
	m.Batch(3, time.Millisecond, 2*time.Millisecond)
	m.Batch(200, 0, time.Millisecond)
	m.Checkpoint(time.Millisecond, true)
	m.Checkpoint(time.Millisecond, false)
	want(t, scrape(t, m), map[string]float64{
		"rtm_messages_accepted_total":                          1 + 1,
		`rtm_message_post_duration_seconds_bucket{le="0.005"}`: 1,
		`rtm_message_post_duration_seconds_bucket{le="0.5"}`:   2,
		"rtm_message_post_duration_seconds_count":              2,
		`rtm_messages_refused_total{reason="rate_limited"}`:    1,
		`rtm_messages_refused_total{reason="other"}`:           1,
		`rtm_messages_refused_total{reason="invalid"}`:         0,
		"rtm_cross_origin_refused_total":                       1,
		"rtm_stream_replays_total":                             1,
		"rtm_stream_replayed_messages_total":                   4,
		`rtm_stream_resets_total{reason="too_much_missed"}`:    1,
		"rtm_relay_wait_seconds_count":                         1,
		`rtm_store_commit_batch_size_bucket{le="4"}`:           1,
		`rtm_store_commit_batch_size_bucket{le="256"}`:         2,
		"rtm_store_commit_batch_size_sum":                      203,
		"rtm_store_queue_wait_seconds_count":                   2,
		"rtm_store_commit_duration_seconds_count":              2,
		"rtm_store_checkpoint_duration_seconds_count":          2,
		"rtm_store_wal_truncations_total":                      1,
	})
}

func TestScrapeTimeSources(t *testing.T) {
	m := New()
	var refused int64 = 2
	queue := 7.0
	m.CounterOf(`rtm_rate_limited_total{limiter="posts"}`, func() int64 { return refused })
	m.Gauge("rtm_relay_backlog", func() float64 { return queue })
	want(t, scrape(t, m), map[string]float64{`rtm_rate_limited_total{limiter="posts"}`: 2, "rtm_relay_backlog": 7})
	refused, queue = 5, 0
	got := scrape(t, m)
	want(t, got, map[string]float64{`rtm_rate_limited_total{limiter="posts"}`: 5, "rtm_relay_backlog": 0})
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("the Go runtime's metrics are missing")
	}
}

// The hub's metrics appear once the hub is wired to report them.
func TestHubMetrics(t *testing.T) {
	m := New()
	h := m.Hub()
	h.StreamOpened("ws")
	h.StreamOpened("ws")
	h.StreamClosed("ws")
	h.StreamOpened("doc")
	h.StreamOpened("carrier pigeon")
	h.Delivered(5)
	h.CutOff("queue_full")
	want(t, scrape(t, m), map[string]float64{
		`rtm_streams_open{transport="ws"}`:              1,
		`rtm_streams_open{transport="doc"}`:             1,
		`rtm_streams_open{transport="sse"}`:             0,
		`rtm_streams_open{transport="other"}`:           1,
		"rtm_deliveries_total":                          5,
		`rtm_stream_cutoffs_total{reason="queue_full"}`: 1,
	})
}

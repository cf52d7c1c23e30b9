package main

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/internal/poll"
	"github.com/rtmessenger/rtmessenger/internal/redistest"
)

var metricsURL = regexp.MustCompile(`msg="debug endpoints" .*metrics=(\S+)`)

// metricsAt returns where the server logged that it serves its metrics.
func (s *server) metricsAt() string {
	s.t.Helper()
	var at string
	poll.Until(s.t, "the debug address in the log", func() bool {
		s.log.mu.Lock()
		defer s.log.mu.Unlock()
		for _, line := range s.log.lines {
			if m := metricsURL.FindStringSubmatch(line); m != nil {
				at = m[1]
				return true
			}
		}
		return false
	})
	return at
}

// scrape reads every sample served at u, by series.
func scrape(t *testing.T, u string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
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

// The metrics are served on the debug address, never on the public one,
// and they follow what the server does: a post accepted, one refused.
func TestMetricsOnTheDebugAddressOnly(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "metrics.db"), "-debug-addr", "127.0.0.1:0")
	at := s.metricsAt()
	before := scrape(t, at)

	anna := s.signup("anna")
	room := anna.createRoom("metered")
	live := anna.stream("")
	anna.say(room, "counted")
	live.next() // the stream is open and got the message
	resp, err := anna.c.PostForm(s.url+room+"/messages", url.Values{"body": {strings.Repeat("x", chat.MaxMessageRunes+1)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	after := scrape(t, at)

	for _, name := range []string{
		"rtm_messages_accepted_total", `rtm_messages_refused_total{reason="invalid"}`, "rtm_message_post_duration_seconds_count",
		"rtm_store_commit_batch_size_count", "rtm_store_queue_wait_seconds_count", "rtm_store_commit_duration_seconds_count",
		"rtm_store_checkpoint_duration_seconds_count", "rtm_store_wal_bytes", "rtm_sessions", "rtm_stream_users", "rtm_stream_connections",
		"rtm_relay_backlog", "rtm_relay_backlog_peak", "rtm_relay_wait_seconds_count", `rtm_rate_limited_total{limiter="posts"}`,
		"rtm_cross_origin_refused_total", "rtm_stream_replays_total", `rtm_stream_resets_total{reason="too_much_missed"}`, "go_goroutines",
		`rtm_streams_open{transport="sse"}`, "rtm_deliveries_total", `rtm_stream_cutoffs_total{reason="queue_full"}`,
	} {
		if _, ok := after[name]; !ok {
			t.Errorf("%s is not served", name)
		}
	}
	moved := func(name string, by float64) {
		t.Helper()
		if d := after[name] - before[name]; d != by {
			t.Errorf("%s moved by %v between scrapes, want %v", name, d, by)
		}
	}
	moved("rtm_messages_accepted_total", 1)
	moved(`rtm_streams_open{transport="sse"}`, 1)
	if after["rtm_deliveries_total"] < before["rtm_deliveries_total"]+1 {
		t.Errorf("rtm_deliveries_total %v → %v: the message reached an open stream", before["rtm_deliveries_total"], after["rtm_deliveries_total"])
	}
	moved("rtm_message_post_duration_seconds_count", 1)
	moved(`rtm_messages_refused_total{reason="invalid"}`, 1)
	moved(`rtm_messages_refused_total{reason="rate_limited"}`, 0)
	if after["rtm_store_commit_batch_size_sum"] <= before["rtm_store_commit_batch_size_sum"] {
		t.Error("the store's batch sizes did not move with the writes")
	}
	if after["rtm_sessions"] != 1 || after["rtm_store_wal_bytes"] <= 0 {
		t.Errorf("sessions %v, WAL %v bytes: want anna's one session, and a log", after["rtm_sessions"], after["rtm_store_wal_bytes"])
	}

	for _, path := range []string{"/metrics", "/debug/vars"} {
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "rtm_") {
			t.Errorf("public %s: %s, want 404 and nothing of the metrics", path, resp.Status)
		}
	}
}

// With -bus, the metrics say whether this node reaches Redis.
func TestMetricsReportTheBus(t *testing.T) {
	redis := redistest.NewProxy(t, redistest.Addr(t))
	s := startServer(t, filepath.Join(t.TempDir(), "bus.db"), "-debug-addr", "127.0.0.1:0",
		"-bus", "redis://"+redis.Addr+"/0?channel="+redistest.Channel(t))
	at := s.metricsAt()
	busUp := func(want float64) func() bool {
		return func() bool { return scrape(t, at)["rtm_bus_up"] == want }
	}
	poll.Until(t, "rtm_bus_up to be 1", busUp(1))
	redis.Cut()
	poll.Until(t, "rtm_bus_up to be 0 with Redis gone", busUp(0))
	redis.Restore()
	poll.Until(t, "rtm_bus_up to be 1 again", busUp(1))
}

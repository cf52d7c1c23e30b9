package main

import (
	"context"
	"math"
	"time"

	"github.com/rtmessenger/rtmessenger/handlers"
	"github.com/rtmessenger/rtmessenger/hub"
	"github.com/rtmessenger/rtmessenger/hub/redisbus"
	"github.com/rtmessenger/rtmessenger/metrics"
	"github.com/rtmessenger/rtmessenger/ratelimit"
	"github.com/rtmessenger/rtmessenger/store"
)

// sessionCountWait bounds the one query a scrape makes (counting sessions):
// a slow database must not hang the scraper.
const sessionCountWait = 2 * time.Second

// watch registers what the metrics read when they are scraped: stream
// counts, the relay's queue, the log's size, signed-in sessions, each
// limiter's refusals and, with -bus, whether the bus reaches Redis. bus
// may be nil. A value that cannot be read is served as NaN.
func watch(m *metrics.Metrics, streams *hub.Hub, st *store.Store, relay *handlers.Relay, bus *redisbus.Bus, limits handlers.Limits) {
	m.Gauge("rtm_stream_users", func() float64 { users, _ := streams.Stats(); return float64(users) })
	m.Gauge("rtm_stream_connections", func() float64 { _, conns := streams.Stats(); return float64(conns) })
	m.Gauge("rtm_relay_backlog", func() float64 { waiting, _ := relay.Backlog(); return float64(waiting) })
	m.Gauge("rtm_relay_backlog_peak", func() float64 { _, peak := relay.Backlog(); return float64(peak) })
	if _, sqlite, _ := st.WALSize(); sqlite {
		m.Gauge("rtm_store_wal_bytes", func() float64 {
			size, _, err := st.WALSize()
			return valueOr(float64(size), err)
		})
	}
	m.Gauge("rtm_sessions", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), sessionCountWait)
		defer cancel()
		n, err := st.Sessions().Live(ctx)
		return valueOr(float64(n), err)
	})
	for name, l := range map[string]*ratelimit.Limiter{
		"login_ip": limits.LoginPerIP, "login_account": limits.LoginPerAccount, "posts": limits.Posts,
		"streams": limits.Streams, "announcements": limits.Announcements, "typing": limits.Typing,
	} {
		m.CounterOf(`rtm_rate_limited_total{limiter="`+name+`"}`, l.Refused)
	}
	if bus != nil {
		m.Gauge("rtm_bus_up", func() float64 {
			if bus.Health() != nil {
				return 0
			}
			return 1
		})
		m.CounterOf("rtm_bus_dropped_total", bus.Dropped)
	}
}

func valueOr(v float64, err error) float64 {
	if err != nil {
		return math.NaN()
	}
	return v
}

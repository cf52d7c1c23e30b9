package main

import (
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"runtime"
)

// debugHandler serves profiles, a few live counters and the Prometheus
// metrics on a separate, private address (-debug-addr): never expose it
// to users.
func debugHandler(streams interface{ Stats() (users, conns int) }, st interface{ Stats() (batches, ops int64) },
	relay interface{ Backlog() (waiting, peak int64) }, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	// Contention sampling costs CPU on every lock and wait, so it is off
	// until asked for: /debug/contention?on=1 (or 0).
	mux.HandleFunc("/debug/contention", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("on") == "1" {
			runtime.SetMutexProfileFraction(10)
			runtime.SetBlockProfileRate(10000) // one sample per 10 µs blocked
		} else {
			runtime.SetMutexProfileFraction(0)
			runtime.SetBlockProfileRate(0)
		}
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/vars", func(w http.ResponseWriter, r *http.Request) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		users, conns := streams.Stats()
		batches, ops := st.Stats()
		waiting, peak := relay.Backlog()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"goroutines":    runtime.NumGoroutine(),
			"stream_users":  users,
			"stream_conns":  conns,
			"heap_inuse":    ms.HeapInuse,
			"stack_inuse":   ms.StackInuse,
			"sys":           ms.Sys,
			"num_gc":        ms.NumGC,
			"write_batches": batches,
			"write_ops":     ops,
			"relay_waiting": waiting,
			"relay_peak":    peak,
		})
	})
	return mux
}

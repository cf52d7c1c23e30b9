package handlers

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// healthTimeout bounds a health check: a store that has not answered by
// then (a write queued behind a stuck one) is reported as unhealthy.
const healthTimeout = 2 * time.Second

// storeHealth is the store's own report on whether it can read and write
// (store.Store.Health). A store without one gets a read.
type storeHealth interface {
	Health(ctx context.Context) error
}

// BusHealth is the cross-node bus's report: nil while it reaches the
// other nodes, else what is wrong and since when.
type BusHealth interface {
	Health() error
}

// healthz answers 200 "ok" while the store works, and 503 with the reason
// (plain text) while it does not: a database that can no longer be
// written is down for everyone who posts, even if pages still render.
// With the bus down it answers 200 "degraded: " and why: the node still
// serves and stores everything, and its clients catch up when the bus is
// back, so a load balancer should keep sending it traffic. The store and
// the bus log a failure themselves, once, so checks every few seconds add
// nothing to the log.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	w.Header().Set("Cache-Control", "no-store")
	if err := h.checkStore(ctx); err != nil {
		h.log.Debug("health check failed", "err", err)
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if h.bus != nil {
		if err := h.bus.Health(); err != nil {
			fmt.Fprintf(w, "degraded: %v; live updates between nodes are paused, posting works\n", err)
			return
		}
	}
	w.Write([]byte("ok\n"))
}

func (h *Handler) checkStore(ctx context.Context) error {
	if s, ok := h.store.(storeHealth); ok {
		return s.Health(ctx)
	}
	_, err := h.store.LatestID(ctx)
	return err
}

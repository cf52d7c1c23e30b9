package handlers

import (
	"context"
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

// healthz answers 200 "ok" while the store works, and 503 with the reason
// (plain text) while it does not: a database that can no longer be
// written is down for everyone who posts, even if pages still render.
// The store logs the failure itself, once, so checks every few seconds
// add nothing to the log.
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
	w.Write([]byte("ok\n"))
}

func (h *Handler) checkStore(ctx context.Context) error {
	if s, ok := h.store.(storeHealth); ok {
		return s.Health(ctx)
	}
	_, err := h.store.LatestID(ctx)
	return err
}

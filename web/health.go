package web

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

func healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// readyz runs every check in parallel with a short deadline; any failure
// makes the answer 503 with the failing names (details go to the log).
func readyz(checks []Check, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		results := make(map[string]string, len(checks))
		var (
			mu sync.Mutex
			wg sync.WaitGroup
		)
		for _, c := range checks {
			wg.Go(func() {
				status := "ok"
				if err := c.Ping(ctx); err != nil {
					logger.WarnContext(ctx, "readiness check failed", "check", c.Name, "err", err)
					status = "unavailable"
				}
				mu.Lock()
				results[c.Name] = status
				mu.Unlock()
			})
		}
		wg.Wait()
		code := http.StatusOK
		for _, s := range results {
			if s != "ok" {
				code = http.StatusServiceUnavailable
			}
		}
		writeJSON(w, code, results)
	})
}

func notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Not found.", http.StatusNotFound)
	})
}

package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

func healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// readyz runs every check in parallel with a short deadline; any failure
// of a check that is not only reported makes the answer 503 with the
// failing names (details go to the log).
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
					logger.WarnContext(ctx, "readiness check failed", "check", c.Name, "err", err, "gating", !c.Reported)
					status = "unavailable"
				}
				mu.Lock()
				results[c.Name] = status
				mu.Unlock()
			})
		}
		wg.Wait()
		code := http.StatusOK
		for _, c := range checks {
			if results[c.Name] != "ok" && !c.Reported {
				code = http.StatusServiceUnavailable
			}
		}
		writeJSON(w, code, results)
	})
}

// notFound answers every other path: machines (the API, Slack, webhooks)
// in plain text, people with a page that leads home.
func notFound(logger *slog.Logger, opts []Option) http.Handler {
	h := newLinkPages(nil, logger, opts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, machine := range []string{"/api/", "/slack/", "/webhooks/", "/metrics", "/healthz", "/readyz"} {
			if strings.HasPrefix(r.URL.Path, machine) {
				http.Error(w, "Not found.", http.StatusNotFound)
				return
			}
		}
		h.errorPage(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.", "", false)
	})
}

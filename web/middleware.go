package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// instrument records request counts and latencies per route pattern (never
// the raw path, which would carry SENs and tokens into label values).
func instrument(reg *prometheus.Registry, next http.Handler) http.Handler {
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "licensedesk_http_request_duration_seconds",
		Help:    "HTTP request latency by route and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "code"})
	reg.MustRegister(duration)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now() //clock:wall measures the request for a metric
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		duration.WithLabelValues(route, strconv.Itoa(rec.status)).Observe(time.Since(start).Seconds()) //clock:wall measures the request for a metric
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// securityHeaders sets the headers every response carries; over HTTPS
// (secure cookies) also HSTS, so a browser never tries plain HTTP again.
func securityHeaders(next http.Handler, https bool, formTargets ...string) http.Handler {
	// form-action also governs where a form's redirect may go: the
	// update-card button redirects to the payment provider's page.
	csp := "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action " +
		strings.Join(append([]string{"'self'"}, formTargets...), " ") + "; frame-ancestors 'none'; base-uri 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		if https {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

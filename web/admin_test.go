package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func get(h http.Handler, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w
}

// L-5: with ADMIN_HTTP_ADDR, metrics, readiness and the codec server live
// on the private listener only.
func TestAdmin_MetricsAndReadinessLeaveThePublicListener(t *testing.T) {
	codec := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "codec") })
	d := Deps{Logger: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), Codec: codec, AdminElsewhere: true,
		Ready: []Check{{Name: "database", Ping: func(context.Context) error { return nil }}}}
	public, admin := New(d), Admin(d)
	for _, path := range []string{"/metrics", "/readyz", "/codec/decode"} {
		if w := get(public, path); w.Code != http.StatusNotFound {
			t.Errorf("public %s: %d, want 404", path, w.Code)
		}
		if w := get(admin, path); w.Code != http.StatusOK {
			t.Errorf("admin %s: %d, want 200", path, w.Code)
		}
	}
	if w := get(public, "/healthz"); w.Code != http.StatusOK {
		t.Errorf("public /healthz: %d", w.Code)
	}
	// Without a separate listener (dev, and serve until ADMIN_HTTP_ADDR is set)
	// they stay where they were.
	d.AdminElsewhere = false
	d.Registry = prometheus.NewRegistry()
	if w := get(New(d), "/metrics"); w.Code != http.StatusOK {
		t.Errorf("/metrics without an admin listener: %d", w.Code)
	}
}

// L-6: a peer the process serves without (Slack's socket) is reported,
// never a reason to leave the load balancer.
func TestReadyz_ReportedChecksDoNotGate(t *testing.T) {
	down := func(context.Context) error { return errors.New("down") }
	up := func(context.Context) error { return nil }
	logger := slog.New(slog.DiscardHandler)
	w := get(readyz([]Check{{Name: "database", Ping: up}, {Name: "slack_socket", Ping: down, Reported: true}}, logger), "/readyz")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"slack_socket":"unavailable"`) {
		t.Errorf("socket down: %d %s; want 200 that still reports it", w.Code, w.Body)
	}
	w = get(readyz([]Check{{Name: "database", Ping: down}, {Name: "slack_socket", Ping: up, Reported: true}}, logger), "/readyz")
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("database down: %d, want 503", w.Code)
	}
}

// L-11: over HTTPS the app itself asks browsers never to use plain HTTP.
func TestSecurityHeaders_HSTSOverHTTPS(t *testing.T) {
	if h := get(securityHeaders(http.NotFoundHandler(), true), "/").Header().Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=31536000") {
		t.Errorf("HSTS over HTTPS: %q", h)
	}
	if h := get(securityHeaders(http.NotFoundHandler(), false), "/").Header().Get("Strict-Transport-Security"); h != "" {
		t.Errorf("HSTS over plain HTTP (dev): %q", h)
	}
}

package sender

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"licensedesk/webhooks"
)

var private = webhooks.Policy{AllowPrivate: true}

// Every failure a receiver can answer with is a failed delivery with a
// clear reason, and none of them holds the sender up.
func TestPost_ReceiverAnswers(t *testing.T) {
	var redirected atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(webhooks.HeaderID) != "evt_1" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/followed", http.StatusFound) })
	mux.HandleFunc("/followed", func(w http.ResponseWriter, r *http.Request) { redirected.Store(true) })
	mux.HandleFunc("/404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 1<<20))
		for range 10 { // 10 MB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	never := make(chan struct{})
	mux.HandleFunc("/never", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-never:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(never) // before Close, which waits for the handler
	s := New(private, 500*time.Millisecond, 4)
	headers := map[string]string{webhooks.HeaderID: "evt_1"}
	for path, want := range map[string]struct {
		code      int
		delivered bool
		err       string
	}{
		"/ok":       {204, true, ""},
		"/redirect": {302, false, "redirects are not followed"},
		"/404":      {404, false, "HTTP 404"},
		"/500":      {500, false, "HTTP 500"},
		"/huge":     {200, true, ""},
		"/never":    {0, false, "timed out"},
	} {
		start := time.Now()
		r := s.Post(context.Background(), srv.URL+path, headers, []byte(`{}`))
		if r.StatusCode != want.code || r.Delivered() != want.delivered || !strings.Contains(r.Err, want.err) {
			t.Errorf("%s: %+v; want code %d delivered %v error with %q", path, r, want.code, want.delivered, want.err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s took %v", path, took)
		}
	}
	if redirected.Load() {
		t.Error("a redirect was followed")
	}
}

// A name that resolves to a loopback address at delivery time is refused
// when dialled (the check runs on the address connected to, after DNS:
// no SSRF by rebinding), and so are http:// and addresses given outright.
func TestPost_RefusesPrivateDestinationsAtDeliveryTime(t *testing.T) {
	var reached atomic.Bool
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Store(true) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	s := New(webhooks.Policy{}, time.Second, 4)
	for _, u := range []string{"https://localhost:" + port + "/x", "https://127.0.0.1:" + port + "/x", "http://example.com/x"} {
		r := s.Post(context.Background(), u, nil, []byte(`{}`))
		if r.Delivered() || !strings.Contains(r.Err, "refused") {
			t.Errorf("%s: %+v; want refused", u, r)
		}
	}
	if reached.Load() {
		t.Error("the private receiver was reached")
	}
	if err := s.CheckHost(context.Background(), "https://localhost:"+port+"/x"); err == nil || !strings.Contains(err.Error(), "127.0.0.1") && !strings.Contains(err.Error(), "::1") {
		t.Errorf("CheckHost(localhost) = %v; want refused naming the loopback address", err)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"licensedesk/webhooks"
)

// chaosReceiver is the webhook receiver the chaos harness controls: it
// can be down (connections cut), answer 500, or answer slowly; it keeps
// the event IDs it took (2xx).
type chaosReceiver struct {
	srv  *httptest.Server
	mode atomic.Value // "ok", "down", "500", "slow"
	mu   sync.Mutex
	got  map[string]int
}

func startChaosReceiver() *chaosReceiver {
	r := &chaosReceiver{got: map[string]int{}}
	r.mode.Store("ok")
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch r.mode.Load() {
		case "down":
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
			return
		case "slow":
			time.Sleep(2 * time.Second)
		}
		r.mu.Lock()
		r.got[req.Header.Get("webhook-id")]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	return r
}

func (r *chaosReceiver) received() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.got))
	for k, v := range r.got {
		out[k] = v
	}
	return out
}

// register creates an endpoint for every event type through the API.
func (r *chaosReceiver) register(ctx context.Context, h *chaos) (string, error) {
	body := fmt.Sprintf(`{"url": %q, "events": %s, "description": "chaos receiver"}`, r.srv.URL+"/hooks", allEventTypesJSON())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.c.baseURL+"/api/v1/webhook-endpoints", bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+h.c.env["ADMIN_API_TOKEN"])
	for try := 0; ; try++ {
		resp, err := h.http.Do(req)
		if err == nil {
			var ep struct{ ID string }
			_ = json.NewDecoder(resp.Body).Decode(&ep)
			resp.Body.Close()
			if resp.StatusCode == http.StatusCreated {
				return ep.ID, nil
			}
			err = fmt.Errorf("create webhook endpoint: HTTP %d", resp.StatusCode)
		}
		if try > 10 {
			return "", err
		}
		time.Sleep(time.Second)
		req.Body.Close()
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, h.c.baseURL+"/api/v1/webhook-endpoints", bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer "+h.c.env["ADMIN_API_TOKEN"])
	}
}

// faults makes the receiver down, then answer 500s, then slow, for total,
// in thirds, then well again.
func (r *chaosReceiver) faults(total time.Duration) {
	for _, m := range []string{"down", "500", "slow"} {
		r.mode.Store(m)
		time.Sleep(total / 3)
	}
	r.mode.Store("ok")
}

// lost counts the events recorded for the endpoint that the receiver never
// took.
func (r *chaosReceiver) lost(ctx context.Context, h *chaos, endpoint string) (lost, total int, err error) {
	rows, err := h.db.Query(ctx, `SELECT 'evt_' || event_id FROM webhook_deliveries WHERE endpoint_id = $1`, endpoint)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	got := r.received()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return 0, 0, err
		}
		total++
		if got[id] == 0 {
			lost++
		}
	}
	return lost, total, rows.Err()
}

func allEventTypesJSON() string {
	b, _ := json.Marshal(webhooks.EventTypes)
	return string(b)
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"licensedesk/internal/pgtest"
	"licensedesk/webhooks"
)

// TestBench_WebhookDelivery measures, on dev and in one run:
//   - a billing day's backlog: 10,000 invoice.paid events recorded in one
//     transaction, drained by the endpoint's delivery workflow to a local
//     receiver (time from commit to the last event received);
//   - as the baseline, a plain Go loop posting the same signed bodies to
//     the same receiver with the same concurrency (16).
//
// LICENSEDESK_BENCH=1 go run ./cmd/withpostgres -- go test ./cmd/licensedesk -run TestBench_WebhookDelivery -v -timeout 20m
func TestBench_WebhookDelivery(t *testing.T) {
	if os.Getenv("LICENSEDESK_BENCH") == "" {
		t.Skip("set LICENSEDESK_BENCH=1 to run the benchmark (a few minutes)")
	}
	n := envInt("BENCH_WEBHOOK_EVENTS", 10000)
	const concurrency = 16
	dbURL := pgtest.NewDatabase(t)
	s := startDevWith(t, map[string]string{"DATABASE_URL": dbURL})
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		hits atomic.Int64
		done = make(chan struct{})
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("webhook-id")
		hits.Add(1)
		mu.Lock()
		if !seen[id] {
			seen[id] = true
			if len(seen) == n {
				close(done)
			}
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()

	body := fmt.Sprintf(`{"url": %q, "events": ["invoice.paid"]}`, recv.URL+"/hooks")
	req, _ := http.NewRequest(http.MethodPost, s.state.HTTPURL+"/api/v1/webhook-endpoints", bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+s.state.AdminAPIToken)
	code, b := do(t, req)
	var ep struct{ ID, Secret string }
	_ = json.Unmarshal(b, &ep)
	if code != http.StatusCreated {
		t.Fatalf("create endpoint: %d %s", code, b)
	}

	// A billing day: n licences, each with an invoice paid, the history
	// recorded in one statement as the collections would (one row each).
	if _, err := pool.Exec(ctx, `
		WITH a AS (INSERT INTO accounts (email, status) SELECT 'payer' || i || '@bench.test', 'pending' FROM generate_series(1, $1) i RETURNING id, email),
		l AS (INSERT INTO licenses (sen, product, deployment, billing_cycle, status, site, price_cents, next_billing_date)
		      SELECT 'SEN-' || (6000000 + i), 'Jira Software', 'cloud', 'monthly', 'active', '', 1000, current_date + 30
		      FROM generate_series(1, $1) i RETURNING id, sen)
		INSERT INTO license_contacts (license_id, account_id, role, is_primary)
		SELECT l.id, a.id, r, true FROM l JOIN a ON a.email = 'payer' || (substr(l.sen, 5)::int - 6000000) || '@bench.test'
		CROSS JOIN unnest(ARRAY['billing', 'technical']) r`, n); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO invoices (license_id, number, period_start, period_end, due_date, amount_cents, currency, status, paid_at, collection_started_at)
		SELECT id, sen || '-bench', current_date, current_date + 30, current_date, 1000, 'USD', 'paid', now(), now()
		FROM licenses WHERE sen LIKE 'SEN-6%'`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := pool.Exec(ctx, `
		INSERT INTO audit_log (actor_kind, actor, action, license_id, workflow_id, detail)
		SELECT 'system', 'billing', 'invoice.paid', i.license_id, 'invoice/' || i.number, jsonb_build_object('number', i.number)
		FROM invoices i WHERE i.number LIKE 'SEN-6%-bench' ORDER BY i.id`); err != nil {
		t.Fatal(err)
	}
	recordTook := time.Since(start)
	start = time.Now() // the backlog is there from the commit on
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		t.Fatalf("only %d of %d events delivered after 5 minutes", len(seen), n)
	}
	drain := time.Since(start)
	rate := float64(n) / drain.Seconds()

	// Baseline: the same bodies, signed the same way, posted by a plain
	// loop with the same concurrency to the same receiver.
	rows, err := pool.Query(ctx, `SELECT id, payload::text FROM webhook_events WHERE type = 'invoice.paid' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type msg struct {
		id   string
		body []byte
	}
	var msgs []msg
	for rows.Next() {
		var id int64
		var p string
		_ = rows.Scan(&id, &p)
		msgs = append(msgs, msg{webhooks.EventID(id), []byte(p)})
	}
	key, _ := decodeSecret(ep.Secret)
	secrets := webhooks.Secrets{Current: key}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	work := make(chan msg)
	var wg sync.WaitGroup
	base := time.Now()
	for range concurrency {
		wg.Go(func() {
			for m := range work {
				h, _ := secrets.Headers(m.id, time.Now(), m.body)
				req, _ := http.NewRequest(http.MethodPost, recv.URL+"/hooks", bytes.NewReader(m.body))
				for k, v := range h {
					req.Header.Set(k, v)
				}
				if resp, err := hc.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		})
	}
	for _, m := range msgs {
		work <- m
	}
	close(work)
	wg.Wait()
	baseRate := float64(len(msgs)) / time.Since(base).Seconds()

	var attempts int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM webhook_attempts`).Scan(&attempts)
	fmt.Printf("webhooks: %d invoice.paid events recorded in one transaction in %.2f s\n", n, recordTook.Seconds())
	fmt.Printf("webhooks: backlog drained %.1f s after its commit (goal <= 60 s): %.0f events/s; %d attempts recorded, %d requests received\n",
		drain.Seconds(), rate, attempts, hits.Load()-int64(len(msgs)))
	fmt.Printf("webhooks: plain Go loop, same bodies signed, concurrency %d: %.0f events/s\n", concurrency, baseRate)
	fmt.Printf("webhooks: ratio %.2f (goal >= 0.5)\n", rate/baseRate)
	if drain > time.Minute {
		t.Errorf("the backlog took %v to drain; goal 1 minute", drain)
	}
}

func decodeSecret(s string) ([]byte, error) {
	return webhooks.ParseSecret(s)
}

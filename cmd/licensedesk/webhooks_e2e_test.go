package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"go.temporal.io/sdk/client"

	"licensedesk/bot"
	"licensedesk/internal/pgtest"
	"licensedesk/workflows"
)

// hookReceiver is a receiver that verifies every delivery the way the
// Standard Webhooks specification says (its own HMAC, and the spec's
// library), keeping the events that verify.
type hookReceiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	events []map[string]any
	at     []time.Time
	bad    int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, ts, sigs := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature")
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(h.secret, "whsec_"))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	ok := false
	for _, s := range strings.Split(sigs, " ") {
		ok = ok || hmac.Equal([]byte(s), []byte(want))
	}
	wh, _ := standardwebhooks.NewWebhook(h.secret)
	sent, _ := strconv.ParseInt(ts, 10, 64)
	var ev map[string]any
	_ = json.Unmarshal(body, &ev)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !ok || wh.Verify(body, r.Header) != nil || ev["id"] != id || time.Since(time.Unix(sent, 0)).Abs() > 5*time.Minute {
		h.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	h.events, h.at = append(h.events, ev), append(h.at, time.Now())
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) find(typ, sen string) (map[string]any, time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, e := range h.events {
		if d, _ := e["data"].(map[string]any); e["type"] == typ && d["sen"] == sen {
			return e, h.at[i], true
		}
	}
	return nil, time.Time{}, false
}

// TestDev_SuspensionByTheBillingSweepReachesAReceiver: on dev, a receiver
// registered for license.suspended hears within seconds, signed, that the
// billing sweep suspended a licence whose card keeps failing.
func TestDev_SuspensionByTheBillingSweepReachesAReceiver(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	s := startDevWith(t, map[string]string{"DATABASE_URL": dbURL})
	ctx := context.Background()
	recv := &hookReceiver{t: t}
	srv := httptest.NewServer(recv)
	defer srv.Close()

	body := `{"url": "` + srv.URL + `/hooks", "events": ["license.suspended", "license.reactivated"], "description": "the product's lock"}`
	req, _ := http.NewRequest(http.MethodPost, s.state.HTTPURL+"/api/v1/webhook-endpoints", bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+s.state.AdminAPIToken)
	code, b := do(t, req)
	var ep map[string]any
	_ = json.Unmarshal(b, &ep)
	if code != http.StatusCreated {
		t.Fatalf("create endpoint: %d %s", code, b)
	}
	recv.mu.Lock()
	recv.secret = ep["secret"].(string)
	recv.mu.Unlock()

	// A licence 20 days behind with a card that is always declined: the
	// sweep invoices it, its collection fails with every retry already
	// past, and the licence is suspended.
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `
		WITH a AS (INSERT INTO accounts (email, status) VALUES ('owner@hooks.test', 'pending') RETURNING id),
		l AS (INSERT INTO licenses (sen, product, deployment, billing_cycle, status, site, price_cents, next_billing_date, payment_customer)
		      VALUES ('SEN-5000001', 'Jira Software', 'cloud', 'monthly', 'active', 'hooks.example.net', 1000, current_date - 20, 'cus_demo_hooks')
		      RETURNING id),
		c AS (INSERT INTO license_contacts (license_id, account_id, role, is_primary)
		      SELECT l.id, a.id, r, true FROM l, a, unnest(ARRAY['billing', 'technical']) r)
		INSERT INTO payment_methods (license_id, provider_ref, brand, last4, exp_month, exp_year, is_default)
		SELECT id, 'pm_card_chargeDeclined', 'visa', '0002', 12, 2040, true FROM l`); err != nil {
		t.Fatal(err)
	}
	tc, err := client.Dial(client.Options{HostPort: s.temporalAddr(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "billing/sweep-webhooks-e2e", TaskQueue: "licensedesk"},
		workflows.BillingSweep, workflows.BillingSweepInput{})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}

	var (
		ev       map[string]any
		received time.Time
		ok       bool
	)
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline) && !ok; time.Sleep(100 * time.Millisecond) {
		ev, received, ok = recv.find("license.suspended", "SEN-5000001")
	}
	if !ok {
		t.Fatalf("no signed license.suspended for SEN-5000001 (%d deliveries failed verification)", recv.bad)
	}
	var suspendedAt time.Time
	if err := pool.QueryRow(ctx, `SELECT at FROM audit_log WHERE action = 'license.suspended' ORDER BY id DESC LIMIT 1`).Scan(&suspendedAt); err != nil {
		t.Fatal(err)
	}
	took := received.Sub(suspendedAt)
	t.Logf("license.suspended reached the receiver %.2f s after the suspension committed", took.Seconds())
	if took > 10*time.Second {
		t.Errorf("the suspension took %v to reach the receiver; want seconds", took)
	}
	data := ev["data"].(map[string]any)
	actor := ev["actor"].(map[string]any)
	if data["status"] != "suspended" || actor["via"] != "system" || ev["created_at"] == "" {
		t.Errorf("event: %v", ev)
	}
	if recv.bad != 0 {
		t.Errorf("%d deliveries did not verify", recv.bad)
	}
	// Its delivery answers /license status like any operation.
	id := ep["id"].(string)
	if st := bot.PlainText(s.slack(t, "status webhooks/"+id)); !strings.Contains(st, "Deliver events to "+id) {
		t.Errorf("/license status webhooks/%s: %s", id, st)
	}
	code, b = s.get(t, "/api/v1/webhook-endpoints/"+id+"/deliveries", s.state.AdminAPIToken)
	if code != http.StatusOK || !strings.Contains(string(b), `"delivered":true`) {
		t.Errorf("delivery log: %d %s", code, b)
	}
}

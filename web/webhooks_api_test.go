package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"licensedesk/licensing"
	"licensedesk/web"
	"licensedesk/webhooks"
)

// fakeHooks is an in-memory WebhookStore that counts what it stored.
type fakeHooks struct {
	eps     map[string]webhooks.Endpoint
	secrets map[string][]byte
	nudged  []string
}

func (f *fakeHooks) CreateWebhookEndpoint(_ context.Context, id string, n webhooks.NewEndpoint, secret []byte) (webhooks.Endpoint, error) {
	ep := webhooks.Endpoint{ID: id, URL: n.URL, Events: n.Events, Description: n.Description, Enabled: true}
	f.eps[id], f.secrets[id] = ep, secret
	return ep, nil
}
func (f *fakeHooks) WebhookEndpoint(_ context.Context, id string) (webhooks.Endpoint, error) {
	ep, ok := f.eps[id]
	if !ok {
		return ep, licensing.Errorf(licensing.NotFound, "No webhook endpoint %s found.", id)
	}
	return ep, nil
}
func (f *fakeHooks) WebhookEndpoints(context.Context) ([]webhooks.Endpoint, error) { return nil, nil }
func (f *fakeHooks) DeleteWebhookEndpoint(_ context.Context, id string, drop bool) (int, error) {
	ep, ok := f.eps[id]
	if !ok {
		return 0, licensing.Errorf(licensing.NotFound, "no")
	}
	if ep.Backlog > 0 && !drop {
		return 0, licensing.FieldErrorf(licensing.Invalid, "drop_backlog", "%s still has %d events to deliver", id, ep.Backlog)
	}
	delete(f.eps, id)
	return ep.Backlog, nil
}
func (f *fakeHooks) RotateWebhookSecret(_ context.Context, id string, key []byte, _ time.Time) error {
	f.secrets[id] = key
	return nil
}
func (f *fakeHooks) SetWebhookEndpointEnabled(_ context.Context, id string, enabled bool, _ string) (webhooks.Endpoint, error) {
	ep := f.eps[id]
	ep.Enabled = enabled
	f.eps[id] = ep
	return ep, nil
}
func (f *fakeHooks) WebhookAttempts(context.Context, string, string, int) ([]webhooks.Attempt, string, error) {
	return nil, "", nil
}
func (f *fakeHooks) RetryWebhookDelivery(context.Context, string, int64) (string, error) {
	return "", licensing.Errorf(licensing.NotFound, "no")
}

func newHooksServer(t *testing.T) (*fakeHooks, *httptest.Server) {
	f := &fakeHooks{eps: map[string]webhooks.Endpoint{}, secrets: map[string][]byte{}}
	h := web.New(web.Deps{Logger: slog.New(slog.DiscardHandler), AdminAPIToken: apiToken, Registry: prometheus.NewRegistry(),
		Webhooks: &web.Webhooks{Store: f, Policy: webhooks.Policy{},
			Nudge: func(_ context.Context, id string, _ bool) error { f.nudged = append(f.nudged, id); return nil }}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return f, srv
}

func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// Every bad endpoint gets a 400 naming its field, and nothing is stored.
func TestWebhookAPI_BadInputIsRefusedNamingTheField(t *testing.T) {
	f, srv := newHooksServer(t)
	for body, field := range map[string]string{
		`{"url": "http://hooks.example.com/x", "events": ["invoice.paid"]}`:                                                     "url",
		`{"url": "https://10.0.0.7/x", "events": ["invoice.paid"]}`:                                                             "url",
		`{"url": "https://[fe80::1]/x", "events": ["invoice.paid"]}`:                                                            "url",
		`{"url": "https://bob:secret@hooks.example.com/x", "events": ["invoice.paid"]}`:                                         "url",
		`{"url": "https://hooks.example.com/` + strings.Repeat("a", 2050) + `", "events": ["invoice.paid"]}`:                    "url",
		`{"url": "https://hooks.example.com/x", "events": ["invoice.exploded"]}`:                                                "events",
		`{"url": "https://hooks.example.com/x", "events": []}`:                                                                  "events",
		`{"url": "https://hooks.example.com/x"}`:                                                                                "events",
		`{"url": "https://hooks.example.com/x", "events": "invoice.paid"}`:                                                      "events",
		`{"url": "https://hooks.example.com/x", "events": ["invoice.paid"], "secret": "mine"}`:                                  "secret",
		`{"url": "https://hooks.example.com/x", "events": ["invoice.paid"], "description": "` + strings.Repeat("d", 501) + `"}`: "description",
	} {
		code, out := call(t, srv, http.MethodPost, "/api/v1/webhook-endpoints", body)
		if code != http.StatusBadRequest || out["field"] != field || out["error"] == "" {
			t.Errorf("%.80s… → %d %v; want 400 naming %s", body, code, out, field)
		}
	}
	if len(f.eps) != 0 || len(f.nudged) != 0 {
		t.Errorf("refused requests stored %v", f.eps)
	}
	code, out := call(t, srv, http.MethodDelete, "/api/v1/webhook-endpoints/not-an-id", "")
	if code != http.StatusBadRequest || out["field"] != "id" {
		t.Errorf("delete of a bad id: %d %v", code, out)
	}
}

// A created endpoint answers its secret once; the endpoint read back has
// none. A delete with a backlog is refused naming drop_backlog, then with
// it says how many were dropped.
func TestWebhookAPI_SecretOnceAndDeleteWithABacklog(t *testing.T) {
	f, srv := newHooksServer(t)
	code, out := call(t, srv, http.MethodPost, "/api/v1/webhook-endpoints",
		`{"url": "https://hooks.example.com/x", "events": ["invoice.paid", "license.suspended"], "description": "ledger"}`)
	secret, _ := out["secret"].(string)
	if code != http.StatusCreated || !strings.HasPrefix(secret, "whsec_") || len(f.nudged) != 1 {
		t.Fatalf("create: %d %v", code, out)
	}
	id := out["id"].(string)
	if _, got := call(t, srv, http.MethodGet, "/api/v1/webhook-endpoints/"+id, ""); got["secret"] != nil || got["url"] != "https://hooks.example.com/x" {
		t.Errorf("get shows %v", got)
	}
	_, rot := call(t, srv, http.MethodPost, "/api/v1/webhook-endpoints/"+id+"/rotate-secret", "")
	if s, _ := rot["secret"].(string); s == secret || !strings.HasPrefix(s, "whsec_") || rot["previous_secret_expires_at"] == nil {
		t.Errorf("rotate: %v", rot)
	}
	ep := f.eps[id]
	ep.Backlog = 7
	f.eps[id] = ep
	code, out = call(t, srv, http.MethodDelete, "/api/v1/webhook-endpoints/"+id, "")
	if code != http.StatusBadRequest || out["field"] != "drop_backlog" || f.eps[id].ID == "" {
		t.Fatalf("delete with a backlog: %d %v", code, out)
	}
	code, out = call(t, srv, http.MethodDelete, "/api/v1/webhook-endpoints/"+id+"?drop_backlog=true", "")
	if code != http.StatusOK || out["dropped"] != float64(7) {
		t.Errorf("delete dropping the backlog: %d %v", code, out)
	}
}

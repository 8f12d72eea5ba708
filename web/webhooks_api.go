package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"licensedesk/internal/clock"
	"licensedesk/licensing"
	"licensedesk/webhooks"
)

// The webhook endpoints API (docs/api.md): endpoints that receive signed
// events, their signing secrets and their delivery log. Bearer
// ADMIN_API_TOKEN on every route, like the rest of /api/v1.

// WebhookStore keeps endpoints and their deliveries (postgres.DB).
type WebhookStore interface {
	CreateWebhookEndpoint(ctx context.Context, id string, n webhooks.NewEndpoint, secret []byte) (webhooks.Endpoint, error)
	WebhookEndpoint(ctx context.Context, id string) (webhooks.Endpoint, error)
	WebhookEndpoints(ctx context.Context) ([]webhooks.Endpoint, error)
	DeleteWebhookEndpoint(ctx context.Context, id string, dropBacklog bool) (int, error)
	RotateWebhookSecret(ctx context.Context, id string, key []byte, until time.Time) error
	SetWebhookEndpointEnabled(ctx context.Context, id string, enabled bool, reason string) (webhooks.Endpoint, error)
	WebhookAttempts(ctx context.Context, id, cursor string, limit int) ([]webhooks.Attempt, string, error)
	RetryWebhookDelivery(ctx context.Context, id string, deliveryID int64) (string, error)
}

// Webhooks is what the endpoints API needs.
type Webhooks struct {
	Store  WebhookStore
	Policy webhooks.Policy
	// CheckHost resolves a new endpoint's host and refuses addresses the
	// policy forbids (sender.Sender.CheckHost); nil checks only the URL.
	CheckHost func(ctx context.Context, rawURL string) error
	// Nudge wakes (starting if need be) the endpoint's delivery workflow;
	// manual also ends a backoff or a disabled wait (temporalclient).
	Nudge func(ctx context.Context, endpointID string, manual bool) error
	Clock clock.Clock

	logger *slog.Logger
}

// rotationOverlap is how long a replaced secret keeps signing beside the
// new one.
const rotationOverlap = 24 * time.Hour

// endpointJSON is an endpoint; Secret only in the answers that make one.
type endpointJSON struct {
	webhooks.Endpoint
	Secret                string     `json:"secret,omitempty"`
	PreviousSecretExpires *time.Time `json:"previous_secret_expires_at,omitempty"`
	WorkflowID            string     `json:"workflow_id"` // its delivery (/license status webhooks/<id>)
}

func endpointOut(ep webhooks.Endpoint) endpointJSON {
	if ep.Events == nil {
		ep.Events = []webhooks.EventType{}
	}
	return endpointJSON{Endpoint: ep, WorkflowID: "webhooks/" + ep.ID}
}

func webhookRoutes(mux *http.ServeMux, token string, h Webhooks, logger *slog.Logger) {
	h.logger = logger
	api := func(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
		return requireBearer(token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := fn(w, r); err != nil {
				writeError(w, logger, r, err)
			}
		}))
	}
	const base = "/api/v1/webhook-endpoints"
	mux.Handle("POST "+base, api(h.create))
	mux.Handle("GET "+base, api(h.list))
	mux.Handle("GET "+base+"/{id}", api(h.get))
	mux.Handle("DELETE "+base+"/{id}", api(h.delete))
	mux.Handle("POST "+base+"/{id}/rotate-secret", api(h.rotate))
	mux.Handle("POST "+base+"/{id}/enable", api(h.setEnabled(true)))
	mux.Handle("POST "+base+"/{id}/disable", api(h.setEnabled(false)))
	mux.Handle("GET "+base+"/{id}/deliveries", api(h.deliveries))
	mux.Handle("POST "+base+"/{id}/deliveries/{delivery}/retry", api(h.retry))
}

// endpointID reads the {id} of the path.
func endpointID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !webhooks.ValidEndpointID(id) {
		return "", licensing.FieldErrorf(licensing.Invalid, "id", "%q is not a webhook endpoint ID (ep_ and 16 letters and digits)", id)
	}
	return id, nil
}

// nudge wakes the endpoint's delivery; a failure is logged, not answered:
// the workflow's own poll picks the change up.
func (h Webhooks) nudge(r *http.Request, id string, manual bool) {
	if h.Nudge == nil {
		return
	}
	if err := h.Nudge(r.Context(), id, manual); err != nil {
		h.logger.WarnContext(r.Context(), "webhooks: could not wake an endpoint's delivery", "endpoint", id, "err", err)
	}
}

// create is POST /api/v1/webhook-endpoints: the endpoint, with its secret
// (shown this once).
func (h Webhooks) create(w http.ResponseWriter, r *http.Request) error {
	body, ok := readBody(w, r, h.logger)
	if !ok {
		return nil
	}
	var n webhooks.NewEndpoint
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		return jsonError(err)
	}
	n, err := h.Policy.Check(n)
	if err != nil {
		return err
	}
	if h.CheckHost != nil {
		if err := h.CheckHost(r.Context(), n.URL); err != nil {
			return err
		}
	}
	secret := webhooks.NewSecret()
	ep, err := h.Store.CreateWebhookEndpoint(r.Context(), webhooks.NewEndpointID(), n, secret)
	if err != nil {
		return err
	}
	if h.Nudge != nil {
		if err := h.Nudge(r.Context(), ep.ID, false); err != nil {
			return err // without its workflow nothing would be delivered
		}
	}
	out := endpointOut(ep)
	out.Secret = webhooks.FormatSecret(secret)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// jsonError names the field a JSON body got wrong.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		return licensing.FieldErrorf(licensing.Invalid, typeErr.Field, "%s has the wrong type (want %s)", typeErr.Field, typeErr.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return licensing.FieldErrorf(licensing.Invalid, f, "%q is not a field of a webhook endpoint (url, events, description)", f)
	}
	return licensing.Errorf(licensing.Invalid, "the body is not a JSON object: %v", err)
}

func (h Webhooks) list(w http.ResponseWriter, r *http.Request) error {
	eps, err := h.Store.WebhookEndpoints(r.Context())
	if err != nil {
		return err
	}
	out := make([]endpointJSON, len(eps))
	for i, ep := range eps {
		out[i] = endpointOut(ep)
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhook_endpoints": out})
	return nil
}

func (h Webhooks) get(w http.ResponseWriter, r *http.Request) error {
	id, err := endpointID(r)
	if err != nil {
		return err
	}
	ep, err := h.Store.WebhookEndpoint(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, endpointOut(ep))
	return nil
}

// delete is DELETE …/{id}[?drop_backlog=true]: refused (400, drop_backlog)
// while events wait, unless asked to drop them.
func (h Webhooks) delete(w http.ResponseWriter, r *http.Request) error {
	id, err := endpointID(r)
	if err != nil {
		return err
	}
	drop := false
	switch v := r.URL.Query().Get("drop_backlog"); v {
	case "", "false":
	case "true":
		drop = true
	default:
		return licensing.FieldErrorf(licensing.Invalid, "drop_backlog", "drop_backlog is %q: want true or false", v)
	}
	dropped, err := h.Store.DeleteWebhookEndpoint(r.Context(), id, drop)
	if err != nil {
		return err
	}
	h.nudge(r, id, true) // its workflow sees the endpoint gone and ends
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "deleted": true, "dropped": dropped})
	return nil
}

// rotate is POST …/{id}/rotate-secret: a new secret, shown once; the old
// one goes on signing beside it for 24 hours.
func (h Webhooks) rotate(w http.ResponseWriter, r *http.Request) error {
	id, err := endpointID(r)
	if err != nil {
		return err
	}
	secret := webhooks.NewSecret()
	until := h.Clock.Now().Add(rotationOverlap).UTC().Truncate(time.Second)
	if err := h.Store.RotateWebhookSecret(r.Context(), id, secret, until); err != nil {
		return err
	}
	ep, err := h.Store.WebhookEndpoint(r.Context(), id)
	if err != nil {
		return err
	}
	out := endpointOut(ep)
	out.Secret, out.PreviousSecretExpires = webhooks.FormatSecret(secret), &until
	writeJSON(w, http.StatusOK, out)
	return nil
}

// setEnabled is POST …/{id}/enable and …/disable. Enabling resumes
// delivery from where it stopped.
func (h Webhooks) setEnabled(enabled bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := endpointID(r)
		if err != nil {
			return err
		}
		ep, err := h.Store.SetWebhookEndpointEnabled(r.Context(), id, enabled, "disabled through the API")
		if err != nil {
			return err
		}
		if enabled {
			h.nudge(r, id, true)
		}
		writeJSON(w, http.StatusOK, endpointOut(ep))
		return nil
	}
}

// deliveries is GET …/{id}/deliveries?cursor=…: the delivery log, every
// attempt newest first, 50 a page.
func (h Webhooks) deliveries(w http.ResponseWriter, r *http.Request) error {
	id, err := endpointID(r)
	if err != nil {
		return err
	}
	page, next, err := h.Store.WebhookAttempts(r.Context(), id, r.URL.Query().Get("cursor"), apiPageSize)
	if err != nil {
		return err
	}
	if page == nil {
		page = []webhooks.Attempt{}
	}
	out := struct {
		Deliveries []webhooks.Attempt `json:"deliveries"`
		NextCursor *string            `json:"next_cursor"`
	}{Deliveries: page}
	if next != "" {
		out.NextCursor = &next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// retry is POST …/{id}/deliveries/{delivery}/retry: the attempt's event is
// queued for the endpoint again, due at once (202).
func (h Webhooks) retry(w http.ResponseWriter, r *http.Request) error {
	id, err := endpointID(r)
	if err != nil {
		return err
	}
	n, ok := webhooks.ParseDeliveryID(r.PathValue("delivery"))
	if !ok {
		return licensing.FieldErrorf(licensing.Invalid, "delivery", "%q is not a delivery ID (dlv_ and a number)", r.PathValue("delivery"))
	}
	event, err := h.Store.RetryWebhookDelivery(r.Context(), id, n)
	if err != nil {
		return err
	}
	h.nudge(r, id, true)
	writeJSON(w, http.StatusAccepted, map[string]any{"endpoint_id": id, "event_id": event, "queued": true})
	return nil
}

package activities

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"

	"licensedesk/internal/clock"
	"licensedesk/postgres"
	"licensedesk/slackout"
	"licensedesk/webhooks"
	"licensedesk/webhooks/sender"
)

// Webhooks is what delivering events needs beside the database.
type Webhooks struct {
	Sender *sender.Sender
	Clock  clock.Clock // signs and schedules retries by it; nil: the real clock
	// Counted, if set, is told of every attempt (metrics).
	Counted func(endpointID string, delivered bool)
}

// DeliverWebhooksInput is one batch for an endpoint.
type DeliverWebhooksInput struct {
	EndpointID  string
	Now         time.Time // the workflow's clock: deliveries due by then are taken
	Limit       int       // events in a batch
	Concurrency int       // posts in flight at once
	// Budget: while batches come back full, take the next one in the same
	// activity until this much time has gone (0: one batch). Saves a
	// workflow round trip per batch when a backlog drains.
	Budget time.Duration
}

// DeliverWebhooksOutput says how the batch went and where the backlog
// stands after it.
type DeliverWebhooksOutput struct {
	Gone          bool // the endpoint was deleted
	Disabled      bool // the endpoint is disabled: nothing was sent
	URL           string
	Attempted     int
	Delivered     int
	Full          bool   // the batch was full: more may be due at once
	ReceiverGone  bool   // the receiver answered 410 Gone: it wants no more
	LastError     string // of the batch's last failure
	Backlog       int
	NextDue       time.Time // earliest retry scheduled (zero: none)
	OldestFailure time.Time // first failure of the delivery failing longest (zero: none)
}

// DeliverWebhooks posts a batch of an endpoint's due events, signed,
// with bounded concurrency and in order per licence (a licence's events
// go one after the other, and stop at its first failure, which holds its
// later events back until it is delivered), records every attempt, and
// schedules each failed delivery's retry with backoff and jitter.
// At least once: a retried activity may post events again with the same
// webhook-id.
func (a *Activities) DeliverWebhooks(ctx context.Context, in DeliverWebhooksInput) (DeliverWebhooksOutput, error) {
	defer heartbeat(ctx, 5*time.Second)() // alive while slow receivers answer (the workflow's HeartbeatTimeout)
	var out DeliverWebhooksOutput
	target, ok, err := a.DB.WebhookTarget(ctx, in.EndpointID)
	if err != nil || !ok {
		out.Gone = !ok
		return out, err
	}
	out.URL = target.URL
	if !target.Enabled {
		out.Disabled = true
		return a.withBacklog(ctx, in.EndpointID, out)
	}
	started := a.Webhooks.Clock.Now()
	now := in.Now
	for {
		due, err := a.DB.DueWebhookDeliveries(ctx, in.EndpointID, now, in.Limit)
		if err != nil {
			return out, err
		}
		out.Full = len(due) == in.Limit
		results := a.post(ctx, target, due, in.Concurrency)
		if err := a.DB.RecordWebhookAttempts(ctx, in.EndpointID, results); err != nil {
			return out, err
		}
		delivered := 0
		for _, r := range results {
			out.Attempted++
			if r.Delivered {
				delivered++
			} else {
				out.LastError = r.Error
				out.ReceiverGone = out.ReceiverGone || r.StatusCode == http.StatusGone
			}
			if a.Webhooks.Counted != nil {
				a.Webhooks.Counted(in.EndpointID, r.Delivered)
			}
		}
		out.Delivered += delivered
		activity.RecordHeartbeat(ctx, out.Attempted)
		// Another batch only while all goes well and time is left.
		if !out.Full || delivered < len(results) || a.Webhooks.Clock.Since(started) >= in.Budget {
			break
		}
		now = now.Add(a.Webhooks.Clock.Since(started))
	}
	return a.withBacklog(ctx, in.EndpointID, out)
}

func (a *Activities) withBacklog(ctx context.Context, endpointID string, out DeliverWebhooksOutput) (DeliverWebhooksOutput, error) {
	b, err := a.DB.WebhookBacklog(ctx, endpointID)
	out.Backlog, out.NextDue, out.OldestFailure = b.Pending, b.NextDue, b.OldestFailure
	return out, err
}

// post delivers due with up to concurrency posts at once, each licence's
// events in order.
func (a *Activities) post(ctx context.Context, target postgres.WebhookTarget, due []postgres.PendingDelivery, concurrency int) []postgres.DeliveryResult {
	var (
		groups = map[int64][]postgres.PendingDelivery{}
		order  []int64
	)
	for _, d := range due {
		if _, ok := groups[d.LicenseID]; !ok {
			order = append(order, d.LicenseID)
		}
		groups[d.LicenseID] = append(groups[d.LicenseID], d)
	}
	var (
		mu      sync.Mutex
		results = make([]postgres.DeliveryResult, 0, len(due))
		g       errgroup.Group
	)
	g.SetLimit(max(concurrency, 1))
	for _, lic := range order {
		g.Go(func() error {
			for _, d := range groups[lic] {
				r := a.postOne(ctx, target, d)
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				if !r.Delivered {
					break // the licence's later events wait behind this one
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	return results
}

func (a *Activities) postOne(ctx context.Context, target postgres.WebhookTarget, d postgres.PendingDelivery) postgres.DeliveryResult {
	at := a.Webhooks.Clock.Now()
	r := postgres.DeliveryResult{EventID: d.EventID, Attempt: d.Attempts + 1, At: at}
	headers, err := target.Secrets.Headers(webhooks.EventID(d.EventID), at, d.Body)
	var res sender.Result
	if err != nil {
		res.Err = "signing failed: " + err.Error()
	} else {
		res = a.Webhooks.Sender.Post(ctx, target.URL, headers, d.Body)
	}
	r.StatusCode, r.Latency, r.Error, r.Delivered = res.StatusCode, res.Latency, res.Err, res.Delivered()
	if !r.Delivered {
		r.NextAt = at.Add(webhooks.Backoff(r.Attempt, rand.Float64()))
	}
	return r
}

// DisableWebhookEndpointInput names the endpoint and why.
type DisableWebhookEndpointInput struct {
	EndpointID string
	Reason     string
	Channel    string // Slack channel for the alert (SLACK_CHANNEL)
}

// DisableWebhookEndpoint disables an endpoint that kept failing, keeping
// its backlog, and alerts the billing channel with how to resume.
func (a *Activities) DisableWebhookEndpoint(ctx context.Context, in DisableWebhookEndpointInput) error {
	ep, err := a.DB.SetWebhookEndpointEnabled(ctx, in.EndpointID, false, in.Reason)
	if err != nil || a.Slack == nil || in.Channel == "" {
		return err
	}
	text := fmt.Sprintf(":warning: Webhook endpoint %s (%s) is disabled: %s. %d events wait for it and nothing is dropped; "+
		"once the receiver is fixed, POST /api/v1/webhook-endpoints/%s/enable resumes delivery where it stopped (docs/runbook.md, \"Webhook endpoint disabled\").",
		ep.ID, ep.URL, in.Reason, ep.Backlog, ep.ID)
	_, err = a.Slack.Post(ctx, slackout.Message{Channel: in.Channel, Text: text})
	return slackError(err)
}

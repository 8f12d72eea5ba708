package workflows

import (
	"fmt"
	"math/rand/v2"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/operation"
	"licensedesk/webhooks"
)

// DeliverWebhooksInput names the endpoint; State carries on across
// continue-as-new.
type DeliverWebhooksInput struct {
	EndpointID  string
	Channel     string        // Slack channel for the alert when the endpoint is disabled
	Batch       int           // events per batch [512]
	Concurrency int           // posts in flight [16]
	Poll        time.Duration // longest wait without a nudge [1 minute]
	State       WebhookState
}

// WebhookState is what a run hands the next.
type WebhookState struct {
	FailingSince time.Time // when the receiver began failing every attempt (zero: it is not)
	Round        int       // failed rounds in a row, for the backoff
	Delivered    int64
	Failed       int64
	LastError    string
	URL          string
}

// WebhookNudge is NudgeWebhooksSignal's payload. Events recorded for the
// endpoint nudge it (Manual false): they are taken at once unless the
// receiver is failing, whose backoff stands. A person's request (enable,
// retry a delivery) is Manual and ends a backoff or a disabled wait.
type WebhookNudge struct {
	Manual bool
}

const (
	stepWebhookDeliver  = "deliver"
	stepWebhookRetry    = "retry"
	stepWebhookDisabled = "disabled"
	// webhookRuns is how many batches a run makes before it continues as
	// new, keeping its history short whatever the volume.
	webhookRuns = 500
	// webhookBudget is how long one activity goes on taking full batches.
	webhookBudget = 20 * time.Second
)

// DeliverWebhooks delivers an endpoint's events for as long as it exists:
// one long-running workflow per endpoint (not one per event), so its cost
// grows with batches, not events. Each batch (activities.DeliverWebhooks)
// reads the endpoint's backlog in order past what it has delivered, posts
// with bounded concurrency and records every attempt. Between batches it
// waits for a nudge (events were recorded) or the next retry, at most
// Poll. A receiver failing every attempt is retried with exponential
// backoff and jitter, one small batch at a time; after webhooks.RetryFor
// (3 days) of failure, or a 410 Gone, the endpoint is disabled, the
// billing channel alerted, and the workflow waits to be enabled again,
// losing nothing. It answers the status query like every operation
// (/license status webhooks/<endpoint>), and ends when the endpoint is
// deleted.
func DeliverWebhooks(ctx workflow.Context, in DeliverWebhooksInput) error {
	if in.Batch <= 0 {
		in.Batch = 512
	}
	if in.Concurrency <= 0 {
		in.Concurrency = 16
	}
	if in.Poll <= 0 {
		in.Poll = time.Minute
	}
	d := &webhookDelivery{in: in, st: in.State, nudges: workflow.GetSignalChannel(ctx, NudgeWebhooksSignal)}
	if err := d.registerHandlers(ctx); err != nil {
		return err
	}
	for range webhookRuns {
		out, err := d.batch(ctx)
		if err != nil {
			return err
		}
		if out.Gone {
			d.step(ctx, stepWebhookDeliver)
			d.done, d.message = true, "The endpoint was deleted."
			return nil
		}
		if err := d.after(ctx, out); err != nil {
			return err
		}
	}
	in.State = d.st
	return workflow.NewContinueAsNewError(ctx, DeliverWebhooks, in)
}

// webhookDelivery is a run's state.
type webhookDelivery struct {
	in       DeliverWebhooksInput
	st       WebhookState
	nudges   workflow.ReceiveChannel
	stepKey  string
	deadline time.Time
	backlog  int
	done     bool
	message  string
}

func (d *webhookDelivery) registerHandlers(ctx workflow.Context) error {
	return workflow.SetQueryHandler(ctx, StatusQuery, func() (operation.Status, error) { return d.status(ctx), nil })
}

// status is what /license status webhooks/<endpoint> shows.
func (d *webhookDelivery) status(ctx workflow.Context) operation.Status {
	info := workflow.GetInfo(ctx)
	steps := []operation.Step{
		{Key: stepWebhookDeliver, Title: "Deliver events as they are recorded"},
		{Key: stepWebhookRetry, Title: "Retry the failing receiver with backoff"},
		{Key: stepWebhookDisabled, Title: "Disabled: wait to be enabled"},
	}
	for i := range steps {
		steps[i].State = operation.Pending
		if steps[i].Key == d.stepKey {
			steps[i].State = operation.Active
		}
	}
	msg := d.message
	if msg == "" {
		msg = fmt.Sprintf("%d delivered, %d failed attempts; %d events waiting.", d.st.Delivered, d.st.Failed, d.backlog)
		if d.st.LastError != "" && d.stepKey != stepWebhookDeliver {
			msg += " Last error: " + d.st.LastError
		}
	}
	summary := "Deliver events to " + d.in.EndpointID
	if d.st.URL != "" {
		summary += " (" + d.st.URL + ")"
	}
	return operation.Status{
		WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, Operation: string(operation.KindWebhooks),
		Summary: summary, StartedBy: "webhooks", Steps: steps, Step: d.stepKey, Deadline: d.deadline, Done: d.done,
		Message: msg,
	}
}

// step makes key the current step, mirrored in OperationStep.
func (d *webhookDelivery) step(ctx workflow.Context, key string) {
	if d.stepKey != key {
		d.stepKey = key
		_ = workflow.UpsertTypedSearchAttributes(ctx, AttrOperation.ValueSet(string(operation.KindWebhooks)), AttrOperationStep.ValueSet(key))
	}
}

// batch delivers one batch: a probe of Concurrency events while the
// receiver is failing.
func (d *webhookDelivery) batch(ctx workflow.Context) (activities.DeliverWebhooksOutput, error) {
	limit := d.in.Batch
	if !d.st.FailingSince.IsZero() {
		limit = d.in.Concurrency
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute, // a budget's batches, then one of slow receivers (512/16 × 15 s)
		// A worker killed mid-batch is noticed within this, not after the
		// 10 minutes above (the activity heartbeats every 5 s); the batch
		// is then delivered again by another (receivers dedupe by
		// webhook-id, as Standard Webhooks asks).
		HeartbeatTimeout: 30 * time.Second,
		RetryPolicy:      &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	var out activities.DeliverWebhooksOutput
	err := workflow.ExecuteActivity(actx, a.DeliverWebhooks, activities.DeliverWebhooksInput{
		EndpointID: d.in.EndpointID, Now: workflow.Now(ctx), Limit: limit, Concurrency: d.in.Concurrency, Budget: webhookBudget,
	}).Get(ctx, &out)
	return out, err
}

// after decides what follows a batch: another at once, a wait, a backoff,
// or disabling the endpoint.
func (d *webhookDelivery) after(ctx workflow.Context, out activities.DeliverWebhooksOutput) error {
	now := workflow.Now(ctx)
	d.backlog, d.deadline = out.Backlog, time.Time{}
	if out.URL != "" {
		d.st.URL = out.URL
	}
	d.st.Delivered += int64(out.Delivered)
	d.st.Failed += int64(out.Attempted - out.Delivered)
	if out.LastError != "" {
		d.st.LastError = out.LastError
	}
	if out.Disabled {
		d.step(ctx, stepWebhookDisabled)
		d.st.FailingSince, d.st.Round = time.Time{}, 0
		d.waitManual(ctx)
		return nil
	}
	failing := out.Attempted > 0 && out.Delivered == 0
	switch {
	case failing:
		if d.st.FailingSince.IsZero() {
			d.st.FailingSince = now
		}
		d.st.Round++
	case out.Delivered > 0:
		d.st.FailingSince, d.st.Round = time.Time{}, 0
	}
	if reason := disableReason(now, out, d.st); reason != "" {
		return d.disable(ctx, reason)
	}
	if failing {
		d.step(ctx, stepWebhookRetry)
		return d.backoff(ctx)
	}
	d.step(ctx, stepWebhookDeliver)
	if out.Full {
		return nil
	}
	wait := d.in.Poll
	if !out.NextDue.IsZero() {
		wait = min(wait, max(out.NextDue.Sub(now), time.Second))
		d.deadline = out.NextDue
	}
	d.wait(ctx, wait, false)
	return nil
}

// disableReason says why the endpoint must be disabled now, or "".
func disableReason(now time.Time, out activities.DeliverWebhooksOutput, st WebhookState) string {
	switch {
	case out.ReceiverGone:
		return "the receiver answered 410 Gone"
	case !st.FailingSince.IsZero() && now.Sub(st.FailingSince) >= webhooks.RetryFor:
		return fmt.Sprintf("every delivery failed for %s (last error: %s)", days(webhooks.RetryFor), st.LastError)
	case !out.OldestFailure.IsZero() && now.Sub(out.OldestFailure) >= webhooks.RetryFor:
		return fmt.Sprintf("an event could not be delivered for %s (last error: %s)", days(webhooks.RetryFor), st.LastError)
	}
	return ""
}

func (d *webhookDelivery) disable(ctx workflow.Context, reason string) error {
	actx := withActivities(ctx)
	if err := workflow.ExecuteActivity(actx, a.DisableWebhookEndpoint, activities.DisableWebhookEndpointInput{
		EndpointID: d.in.EndpointID, Reason: reason, Channel: d.in.Channel,
	}).Get(ctx, nil); err != nil {
		return err
	}
	workflow.GetMetricsHandler(ctx).Counter(metricWebhooksDisabled).Inc(1)
	d.st.FailingSince, d.st.Round = time.Time{}, 0
	d.step(ctx, stepWebhookDisabled)
	d.waitManual(ctx)
	return nil
}

// backoff waits Backoff(Round) with jitter, or until a person asks.
func (d *webhookDelivery) backoff(ctx workflow.Context) error {
	var jitter float64
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return rand.Float64() }).Get(&jitter); err != nil {
		return err
	}
	wait := webhooks.Backoff(d.st.Round, jitter)
	d.deadline = workflow.Now(ctx).Add(wait)
	d.wait(ctx, wait, true)
	return nil
}

// wait waits up to limit for a nudge (only a manual one when manualOnly),
// then drains the nudges queued meanwhile.
func (d *webhookDelivery) wait(ctx workflow.Context, limit time.Duration, manualOnly bool) {
	timerCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(timerCtx, limit)
	for {
		woke := false
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(timer, func(workflow.Future) { woke = true })
		sel.AddReceive(d.nudges, func(c workflow.ReceiveChannel, _ bool) {
			var n WebhookNudge
			c.Receive(ctx, &n)
			woke = woke || n.Manual || !manualOnly
		})
		sel.Select(ctx)
		if woke {
			break
		}
	}
	d.drain(ctx)
}

// waitManual waits, with no time limit, for a person to enable the
// endpoint (or ask for a retry); events recorded meanwhile wait with it.
func (d *webhookDelivery) waitManual(ctx workflow.Context) {
	for {
		var n WebhookNudge
		d.nudges.Receive(ctx, &n)
		if n.Manual {
			break
		}
	}
	d.drain(ctx)
}

func (d *webhookDelivery) drain(ctx workflow.Context) {
	for d.nudges.ReceiveAsync(nil) {
	}
}

package temporalclient

import (
	"context"

	"licensedesk/operation"
	"licensedesk/workflows"
)

// webhooks is the launch of an endpoint's delivery workflow: one per
// endpoint, joined when running.
func (c *Client) webhooks(endpointID string) launch {
	return launch{ID: operation.WebhooksID(endpointID), Kind: operation.KindWebhooks, Join: true,
		Fn: workflows.DeliverWebhooks, Arg: workflows.DeliverWebhooksInput{EndpointID: endpointID, Channel: c.AlertChannel}}
}

// NudgeWebhooks tells an endpoint's delivery workflow that events wait,
// starting it if it is not running. manual (a person enabled the endpoint
// or asked for a retry) also ends a retry backoff or a disabled wait.
func (c *Client) NudgeWebhooks(ctx context.Context, endpointID string, manual bool) error {
	l := c.webhooks(endpointID)
	_, err := c.Temporal.SignalWithStartWorkflow(ctx, l.ID, workflows.NudgeWebhooksSignal, workflows.WebhookNudge{Manual: manual},
		l.options(c.TaskQueue), l.Fn, l.Arg)
	return err
}

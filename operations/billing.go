package operations

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/payments"
	"licensedesk/postgres"
	"licensedesk/workflows"
)

// ChargeNow retries a licence's outstanding invoice at once: it signals the
// invoice's collection, starting it again if it had stopped. It answers
// with the invoice number.
func (c *Client) ChargeNow(ctx context.Context, sen licensing.SEN, slackUser string) (string, error) {
	inv, err := c.Invoices.OpenInvoice(ctx, sen)
	if err != nil {
		return "", err
	}
	invoice := inv.Number
	_, err = c.Temporal.SignalWithStartWorkflow(ctx, workflows.InvoiceID(invoice), workflows.ChargeNowSignal, slackUser,
		client.StartWorkflowOptions{
			TaskQueue:             c.TaskQueue,
			WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			TypedSearchAttributes: temporal.NewSearchAttributes(
				workflows.LicenseSEN.ValueSet(string(sen)), workflows.Operation.ValueSet("collect")),
		},
		workflows.CollectInvoice, workflows.CollectInput{SEN: sen, Invoice: invoice, Channel: c.AlertChannel, Policy: c.Policy})
	if err != nil {
		return "", err
	}
	return invoice, nil
}

// EnsureBilling makes sure every cloud licence has its billing cycle and
// every unpaid invoice its collection running. Safe to call at every start:
// running workflows are left alone, and an invoice whose collection already
// ran (and stopped) is not retried behind anyone's back.
func (c *Client) EnsureBilling(ctx context.Context, licenses []licensing.SEN, openInvoices []postgres.InvoiceRef) error {
	for _, sen := range licenses {
		_, err := c.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: workflows.BillingID(sen), TaskQueue: c.TaskQueue,
			WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			TypedSearchAttributes: temporal.NewSearchAttributes(
				workflows.LicenseSEN.ValueSet(string(sen)), workflows.Operation.ValueSet("billing")),
		}, workflows.BillingCycle, workflows.BillingCycleInput{SEN: sen, Channel: c.AlertChannel, Policy: c.Policy})
		if err != nil {
			return err
		}
	}
	for _, inv := range openInvoices {
		number, sen := inv.Number, string(inv.SEN)
		_, err := c.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: workflows.InvoiceID(number), TaskQueue: c.TaskQueue,
			WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			TypedSearchAttributes: temporal.NewSearchAttributes(
				workflows.LicenseSEN.ValueSet(sen), workflows.Operation.ValueSet("collect")),
		}, workflows.CollectInvoice, workflows.CollectInput{SEN: licensing.SEN(sen), Invoice: number, Channel: c.AlertChannel, Policy: c.Policy})
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if err != nil && !errors.As(err, &started) {
			return err
		}
	}
	return nil
}

// HandlePaymentEvent is the webhook's handler: a captured card is signalled
// to the workflow named in the session's reference ("<workflow id>|<link
// id>"): a CardUpdate, or the collection whose failure mail carried the
// link. Deliveries may repeat or arrive out of order;
// the workflow applies a card once per link, and events we do not act on
// are acknowledged. A workflow that has ended is not an error (Stripe would
// retry for days).
func (c *Client) HandlePaymentEvent(ctx context.Context, ev payments.Event) error {
	if ev.Type != "checkout.session.completed" {
		return nil
	}
	wf, id, ok := strings.Cut(ev.Reference, "|")
	linkID, err := strconv.ParseInt(id, 10, 64)
	if kind, _ := operation.KindOf(wf); !ok || err != nil || (kind != operation.KindCard && kind != operation.KindInvoice) {
		return nil // not one of our sessions
	}
	err = c.Temporal.SignalWorkflow(ctx, wf, "", workflows.CardCapturedSignal, workflows.CardCaptured{
		SessionID: ev.SessionID, PaymentMethodID: ev.PaymentMethodID, LinkID: linkID,
	})
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil
	}
	return err
}

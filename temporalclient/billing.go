package temporalclient

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"go.temporal.io/api/serviceerror"

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
	l := c.collection(sen, invoice)
	_, err = c.Temporal.SignalWithStartWorkflow(ctx, l.ID, workflows.ChargeNowSignal, slackUser, l.options(c.TaskQueue), l.Fn, l.Arg)
	if err != nil {
		return "", err
	}
	return invoice, nil
}

// collection is the launch of an invoice's collection: it joins a run in
// flight; ChargeNow signals it into being even after it stopped.
func (c *Client) collection(sen licensing.SEN, invoice string) launch {
	return launch{ID: operation.InvoiceID(invoice), Kind: operation.KindInvoice, SEN: sen, Join: true,
		Fn: workflows.CollectInvoice, Arg: workflows.CollectInput{SEN: sen, Invoice: invoice, Channel: c.AlertChannel, Policy: c.Policy}}
}

// EnsureBilling makes sure every cloud licence has its billing cycle and
// every unpaid invoice its collection running. Safe to call at every start:
// running workflows are left alone, and an invoice whose collection already
// ran (and stopped) is not retried behind anyone's back.
func (c *Client) EnsureBilling(ctx context.Context, licenses []licensing.SEN, openInvoices []postgres.InvoiceRef) error {
	for _, sen := range licenses {
		if _, err := c.launch(ctx, launch{ID: operation.BillingID(sen), Kind: operation.KindBilling, SEN: sen, Join: true,
			Fn: workflows.BillingCycle, Arg: workflows.BillingCycleInput{SEN: sen, Channel: c.AlertChannel, Policy: c.Policy}}); err != nil {
			return err
		}
	}
	for _, inv := range openInvoices {
		l := c.collection(inv.SEN, inv.Number)
		l.Once = true
		if _, err := c.launch(ctx, l); err != nil {
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

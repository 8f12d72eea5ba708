package temporalclient

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/sync/errgroup"

	"licensedesk/activities"
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

// SweepScheduleID names the Temporal Schedule that runs the billing sweep.
const SweepScheduleID = "billing-sweep"

// EnsureBilling makes sure the billing sweep's schedule exists and runs
// every c.SweepEvery (default 5 minutes), creating it (and running a sweep
// at once) the first time. Safe to call at every start, from every worker:
// nothing here grows with the number of licences. A sweep still running
// when the next is due is skipped, not doubled.
func (c *Client) EnsureBilling(ctx context.Context) error {
	every := c.SweepEvery
	if every <= 0 {
		every = 5 * time.Minute
	}
	sched := c.Temporal.ScheduleClient()
	_, err := sched.Create(ctx, client.ScheduleOptions{
		ID:                 SweepScheduleID,
		Spec:               client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}},
		Overlap:            enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		TriggerImmediately: true,
		Action: &client.ScheduleWorkflowAction{
			ID: operation.BillingID("sweep"), Workflow: workflows.BillingSweep, Args: []any{workflows.BillingSweepInput{}},
			TaskQueue: c.TaskQueue, WorkflowExecutionTimeout: sweepTimeout,
			TypedSearchAttributes: launch{Kind: operation.KindBilling}.searchAttributes(),
		},
	})
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return err
	}
	// It exists: keep its interval and timeout what this process was
	// configured with.
	return sched.GetHandle(ctx, SweepScheduleID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			spec := in.Description.Schedule.Spec
			action, ok := in.Description.Schedule.Action.(*client.ScheduleWorkflowAction)
			if len(spec.Intervals) == 1 && spec.Intervals[0].Every == every && (!ok || action.WorkflowExecutionTimeout == sweepTimeout) {
				return nil, temporal.ErrSkipScheduleUpdate
			}
			spec.Intervals = []client.ScheduleIntervalSpec{{Every: every}}
			if ok {
				action.WorkflowExecutionTimeout = sweepTimeout
			}
			return &client.ScheduleUpdate{Schedule: &in.Description.Schedule}, nil
		},
	})
}

// sweepTimeout bounds a whole sweep, its continue-as-new runs included. A
// billing day charges at the provider's rate: 280,000 invoices at 25 a
// second take three hours, so an hour is not enough; a day is, and a
// sweep stuck for longer still ends so that the next can start.
const sweepTimeout = 24 * time.Hour

// startConcurrency bounds the collection starts in flight from one sweep
// page: enough to keep the Temporal frontend busy, few enough not to swamp
// it.
const startConcurrency = 16

// StartCollections starts the collection of each invoice (the billing
// sweep's outbox); one that was ever started, running or ended, is left
// as it is (activities.CollectionStarter).
func (c *Client) StartCollections(ctx context.Context, invoices []postgres.InvoiceRef) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(startConcurrency)
	for _, inv := range invoices {
		g.Go(func() error {
			l := c.collection(inv.SEN, inv.Number)
			l.Once = true
			_, err := c.launch(ctx, l)
			return err
		})
	}
	return g.Wait()
}

// StartDunning starts the collection of each invoice whose first attempt
// the billing sweep made and the card declined: it carries on from that
// decline (activities.DunningStarter). One ever started is left as it is.
func (c *Client) StartDunning(ctx context.Context, declined []activities.Declined) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(startConcurrency)
	for _, d := range declined {
		g.Go(func() error {
			l := c.collection(d.Invoice.SEN, d.Invoice.Number)
			arg := l.Arg.(workflows.CollectInput)
			first := d.First
			arg.Charged = &first
			l.Arg, l.Once = arg, true
			_, err := c.launch(ctx, l)
			return err
		})
	}
	return g.Wait()
}

// HandlePaymentEvent is the webhook's handler: a captured card is signalled
// to the workflow named in the session's reference ("<workflow id>|<link
// id>"): a CardUpdate, or the collection whose failure mail carried the
// link. Deliveries may repeat or arrive out of order;
// the workflow applies a card once per link, and events we do not act on
// are acknowledged. A workflow that has ended is not an error (Stripe would
// retry for days).
func (c *Client) HandlePaymentEvent(ctx context.Context, ev payments.Event) error {
	if ev.Type == payments.EventPaymentIntentSucceeded {
		return c.paymentSucceeded(ctx, ev)
	}
	if ev.Type != "checkout.session.completed" {
		return nil
	}
	wf, id, ok := strings.Cut(ev.Reference, "|")
	linkID, err := strconv.ParseInt(id, 10, 64)
	if kind, _ := operation.KindOf(wf); !ok || err != nil || (kind != operation.KindCard && kind != operation.KindInvoice) {
		return nil // not one of our sessions
	}
	captured := workflows.CardCaptured{SessionID: ev.SessionID, PaymentMethodID: ev.PaymentMethodID, LinkID: linkID}
	if started, err := c.cardExpiryCaptured(ctx, wf, captured); started {
		return err
	}
	err = c.Temporal.SignalWorkflow(ctx, wf, "", workflows.CardCapturedSignal, captured)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil
	}
	return err
}

// paymentSucceeded tells an open invoice's collection that the provider
// reports one of its charges succeeded: a charge the cardholder confirmed
// with their bank (bank authentication). The collection asks the provider
// itself; this only wakes it, and starts it again if it had stopped (the
// charge may be confirmed after it gave up). A charge of a paid invoice
// (every ordinary payment: its attempt recorded it already) or of no
// invoice of ours is acknowledged and left alone: one point read, no
// Temporal call.
func (c *Client) paymentSucceeded(ctx context.Context, ev payments.Event) error {
	number := ev.Metadata["invoice"]
	sen, err := licensing.ParseSEN(ev.Metadata["sen"])
	if number == "" || err != nil {
		return nil
	}
	inv, err := c.Invoices.Invoice(ctx, number)
	if licensing.ErrorCode(err) == licensing.NotFound || (err == nil && (inv.Paid || inv.SEN != sen)) {
		return nil
	}
	if err != nil {
		return err
	}
	l := c.collection(sen, number)
	_, err = c.Temporal.SignalWithStartWorkflow(ctx, l.ID, workflows.PaymentAuthenticatedSignal,
		workflows.PaymentAuthenticated{ChargeID: ev.PaymentIntentID, EventID: ev.ID}, l.options(c.TaskQueue), l.Fn, l.Arg)
	return err
}

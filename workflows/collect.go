package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/licensing"
	"licensedesk/operation"
)

// RetryPolicy is the old name of the dunning schedule,
// licensing.DunningSchedule (not Temporal's activity RetryPolicy), kept as
// an alias so code written against it still compiles. Same type, same wire
// format.
//
// Deprecated: use licensing.DunningSchedule.
type RetryPolicy = licensing.DunningSchedule

// DefaultRetryPolicy is licensing.DefaultDunning.
//
// Deprecated: use licensing.DefaultDunning.
var DefaultRetryPolicy = licensing.DefaultDunning

// ParseRetryPolicy is licensing.ParseDunningSchedule.
//
// Deprecated: use licensing.ParseDunningSchedule.
func ParseRetryPolicy(retryDays, suspendDays string) (RetryPolicy, error) {
	return licensing.ParseDunningSchedule(retryDays, suspendDays)
}

// CollectInput names the invoice to collect.
type CollectInput struct {
	SEN     licensing.SEN
	Invoice string                    // invoice number
	Policy  licensing.DunningSchedule // the dunning schedule (zero: the default)
	Channel string                    // Slack channel for alerts
	// ChargeNow charges at once even when earlier attempts exist (a new card
	// arrived after collection had stopped).
	ChargeNow bool
	// ReplyTo is a workflow to tell the first attempt's result (the card
	// update that started this collection again).
	ReplyTo string
	// Charged is the first attempt's outcome when the billing sweep made
	// it and the card declined (issue 18): collection carries on from it,
	// mailing the failure and retrying on schedule, instead of charging at
	// once. Nil for every collection started otherwise, and for runs
	// started before, which therefore replay unchanged.
	Charged *activities.ChargeInvoiceOutput
}

// CollectResult says how collection ended.
type CollectResult struct {
	Paid     bool
	Attempts int
	Message  string
}

const (
	stepCharge       = "charge"
	stepRetry        = "retry"
	stepNewCard      = "new-card"
	stepAuthenticate = "authenticate" // the cardholder confirms the charge with their bank
)

// CollectInvoice charges an invoice and, while it fails, retries on the
// policy's schedule: each failure makes the licence past due, emails the
// billing contacts and those allowed to update the card (with an
// update-card button for those allowed, which leads back to this
// collection) and alerts Slack. A hard decline waits for a new card
// instead. A new card or /license charge retries at once. When retries run
// out, or SuspendAfter the due date, the licence is suspended; a later
// payment makes it active.
//
// Never twice: the workflow numbers attempts itself, so the provider's
// idempotency key (invoice number and attempt) is the same however often an
// activity is retried; the activity also refuses to charge a paid invoice,
// and the database allows one successful attempt per invoice. Signals are
// handled one at a time, so a card update and /license charge arriving
// together cause one attempt.
func CollectInvoice(ctx workflow.Context, in CollectInput) (CollectResult, error) {
	in.Policy = in.Policy.OrDefault()
	t, err := newTracker(ctx, operation.KindInvoice, in.SEN, fmt.Sprintf("Collect invoice %s of %s", in.Invoice, in.SEN), Requester{Channel: in.Channel},
		operation.Step{Key: stepCharge, Title: "Charge the card on file"},
		operation.Step{Key: stepRetry, Title: "Retry on schedule"},
		operation.Step{Key: stepAuthenticate, Title: "The cardholder confirms the payment with their bank"},
	)
	if err != nil {
		return CollectResult{}, err
	}
	t.progress.Channel = "" // alerts are separate messages, not a progress message
	c := &collection{in: in, t: t, actx: withActivities(ctx)}
	// Version 1: the failure mails carry their own update-card links, whose
	// cards come back here (CardCapturedSignal), and whoever asked for a
	// charge with a new card hears its result (CardUpdate.ReplyTo). Runs
	// started before started a CardUpdate after each failure instead.
	c.ownLinks = workflow.GetVersion(ctx, "collect-own-card-links", workflow.DefaultVersion, 1) >= 1
	// Version 1: a charge the bank wants the cardholder to confirm (SCA)
	// waits for them instead of for a new card (authenticate.go).
	c.sca = workflow.GetVersion(ctx, "collect-sca", workflow.DefaultVersion, 1) >= 1

	if err := workflow.ExecuteActivity(c.actx, a.InvoiceState, activities.InvoiceStateInput{Number: in.Invoice}).Get(ctx, &c.inv); err != nil {
		return CollectResult{}, err
	}
	if c.inv.Paid {
		t.end(ctx, operation.Completed, "Already paid.")
		return CollectResult{Paid: true}, nil
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrCustomerEmails.ValueSet(emails(c.inv.BillingContacts...)))
	c.listen(ctx)
	return c.run(ctx)
}

// collection is one run of CollectInvoice: the invoice as it was found,
// where dunning stands, and who waits for the next attempt's result.
type collection struct {
	in   CollectInput
	t    *tracker
	actx workflow.Context // for activities
	// Versions this run takes ("collect-own-card-links", "collect-sca").
	ownLinks, sca bool

	inv                          activities.InvoiceStateOutput
	cardCh, chargeCh, capturedCh workflow.ReceiveChannel
	auth                         *authWait

	attempt             int // the next attempt's number
	suspendAt, giveUpAt time.Time
	suspended           bool
	hard                bool     // the last decline was hard: wait for a new card, not a retry
	retryNow            bool     // a new card or /license charge arrived: charge at once
	replyTo             []string // workflows waiting for the next attempt's result
	charged             *activities.ChargeInvoiceOutput
	result              CollectResult // how it ended
}

// listen opens the signal channels and sets where dunning stands from the
// invoice's state.
func (c *collection) listen(ctx workflow.Context) {
	c.cardCh = workflow.GetSignalChannel(ctx, CardUpdatedSignal)
	c.chargeCh = workflow.GetSignalChannel(ctx, ChargeNowSignal)
	c.capturedCh = workflow.GetSignalChannel(ctx, CardCapturedSignal)
	c.attempt = c.inv.Attempts + 1
	c.suspendAt = c.in.Policy.SuspendAt(c.inv.DueDate)
	c.giveUpAt = c.in.Policy.GiveUpAt(c.inv.DueDate)
	c.suspended = c.inv.LicenseStatus == licensing.Suspended
	c.hard = c.inv.LastHard
	c.auth = &authWait{on: c.sca && c.inv.LastNeedsAuth, attempt: c.inv.Attempts, ch: workflow.GetSignalChannel(ctx, PaymentAuthenticatedSignal)}
	if c.auth.on {
		c.hard = false // it waits for the cardholder, not for a new card
	}
	if c.in.ReplyTo != "" && c.ownLinks {
		c.replyTo = append(c.replyTo, c.in.ReplyTo)
	}
	c.charged = c.in.Charged
}

// run charges and waits until the invoice is paid or collection gives up.
// The first attempt runs at once unless earlier attempts exist (a resumed
// collection): then it waits for the next retry time. One the sweep made
// (in.Charged) is taken as this first attempt.
func (c *collection) run(ctx workflow.Context) (CollectResult, error) {
	charge := c.inv.Attempts == 0 || c.in.ChargeNow || c.charged != nil
	for {
		if charge {
			if done, err := c.chargeOnce(ctx); done || err != nil {
				return c.result, err
			}
		}
		next := c.wait(ctx)
		var done bool
		if charge, done = c.woken(ctx, next); done {
			return c.result, nil
		}
	}
}

// chargeOnce makes an attempt (or takes the sweep's) and acts on its
// outcome; done is true when the invoice is paid.
func (c *collection) chargeOnce(ctx workflow.Context) (done bool, err error) {
	c.t.begin(ctx, stepCharge)
	var res activities.ChargeInvoiceOutput
	if c.charged != nil {
		// Attempt 1, made and counted by the sweep.
		res, c.charged, c.attempt = *c.charged, nil, max(c.attempt, 2)
	} else {
		if err := workflow.ExecuteActivity(c.actx, a.ChargeInvoice, activities.ChargeInvoiceInput{
			Number: c.in.Invoice, Attempt: c.attempt, Authenticate: c.sca,
		}).Get(ctx, &res); err != nil {
			return false, err
		}
		c.attempt++
		countCharge(ctx, res)
	}
	if res.Paid {
		c.paid(ctx, res, fmt.Sprintf("Invoice %s paid (attempt %d).", c.in.Invoice, c.attempt-1))
		return true, nil
	}
	if c.auth.on = c.sca && res.NeedsAuth; c.auth.on {
		c.hard = false
		c.auth.ask(ctx, c.t, c.in, c.attempt-1, c.suspendAt, c.replyTo)
		c.replyTo = nil
		c.t.done(stepCharge)
		return false, nil // not a failure: no failure notice, no suspension now
	}
	c.declined(ctx, res)
	return false, nil
}

// declined acts on a failed attempt: the failure notice (suspending the
// licence when the retries are used up), and the news to whoever asked
// for the attempt.
func (c *collection) declined(ctx workflow.Context, res activities.ChargeInvoiceOutput) {
	c.hard = res.Hard
	next, exhausted := c.in.Policy.AfterFailure(workflow.Now(ctx), c.inv.DueDate, c.hard)
	if exhausted && !c.suspended {
		c.suspended = true
	}
	notice := activities.BillingNoticeInput{
		Kind: activities.NoticeFailed, Number: c.in.Invoice, Key: fmt.Sprintf("%s/failed/%d", c.t.st.WorkflowID, c.attempt-1),
		Reason: res.Reason, Hard: c.hard, NextRetry: next, SuspendOn: c.suspendAt, Suspend: exhausted, Channel: c.in.Channel,
	}
	if c.ownLinks {
		notice.CardLinks = cardLinks(ctx, c.t.st.WorkflowID)
	}
	_ = workflow.ExecuteActivity(c.actx, a.BillingNotice, notice).Get(ctx, nil)
	if c.ownLinks {
		tellCharged(ctx, c.replyTo, ChargeResult{Invoice: c.in.Invoice, Reason: res.Reason, Hard: c.hard})
	} else {
		requestNewCard(ctx, c.in.SEN, c.in.Channel)
	}
	c.replyTo = nil
	c.t.done(stepCharge)
}

// wait waits for whichever comes first: a new card, /license charge, the
// cardholder's bank, the next scheduled retry (which it returns, zero if
// none), suspension, or giving up.
func (c *collection) wait(ctx workflow.Context) (next time.Time) {
	now := workflow.Now(ctx)
	next, wake := c.in.Policy.Wake(now, c.inv.DueDate, c.hard, c.suspended)
	switch {
	case c.auth.on:
		c.t.begin(ctx, stepAuthenticate)
		c.t.waiting(ctx, c.inv.BillingContacts, wake)
	case c.hard:
		c.t.begin(ctx, stepNewCard)
	default:
		c.t.begin(ctx, stepRetry)
	}
	c.t.st.Deadline = wake
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(c.cardCh, func(ch workflow.ReceiveChannel, _ bool) { c.cardUpdated(ctx, ch) })
	sel.AddReceive(c.chargeCh, func(ch workflow.ReceiveChannel, _ bool) { ch.Receive(ctx, nil); c.retryNow = true })
	if c.ownLinks {
		sel.AddReceive(c.capturedCh, func(ch workflow.ReceiveChannel, _ bool) { c.captured(ctx, ch) })
	}
	if c.sca {
		sel.AddReceive(c.auth.ch, func(workflow.ReceiveChannel, bool) { c.auth.settle(ctx, c.in.Invoice) })
	}
	sel.AddFuture(workflow.NewTimer(timerCtx, wake.Sub(now)), func(workflow.Future) {})
	sel.Select(ctx)
	cancelTimer()
	// Several signals may be queued (a card update and /license charge
	// together): drain them so they make one attempt.
	for c.cardCh.Len() > 0 {
		c.cardUpdated(ctx, c.cardCh)
	}
	for c.chargeCh.ReceiveAsync(nil) {
		c.retryNow = true
	}
	return next
}

// woken acts on what ended the wait for the retry next: charge says to
// charge again, done that collection ended.
func (c *collection) woken(ctx workflow.Context, next time.Time) (charge, done bool) {
	now := workflow.Now(ctx)
	due := !next.IsZero() && !now.Before(next)
	switch {
	case c.auth.paid != nil:
		c.paidByBank(ctx)
		return false, true
	case c.retryNow:
		c.retryNow = false
		return true, false
	case due && c.auth.on:
		if charge = !c.auth.remind(ctx, c.t, c.in, c.suspendAt); c.auth.paid != nil {
			c.paidByBank(ctx)
			return false, true
		}
		return charge, false
	case due:
		return true, false
	case !c.suspended && !now.Before(c.suspendAt):
		c.suspend(ctx)
	case !now.Before(c.giveUpAt):
		c.giveUp(ctx)
		return false, true
	}
	return false, false
}

// cardUpdated takes a CardUpdatedSignal: charge at once.
func (c *collection) cardUpdated(ctx workflow.Context, ch workflow.ReceiveChannel) {
	var u CardUpdated
	ch.Receive(ctx, &u)
	c.retryNow, c.hard = true, false
	if c.ownLinks && u.ReplyTo != "" && !slices.Contains(c.replyTo, u.ReplyTo) {
		c.replyTo = append(c.replyTo, u.ReplyTo)
	}
}

// captured takes a card saved through one of this collection's own links:
// make it the default, then charge at once. A stale or repeated report is
// noted and ignored.
func (c *collection) captured(ctx workflow.Context, ch workflow.ReceiveChannel) {
	var got CardCaptured
	ch.Receive(ctx, &got)
	var applied activities.ApplyCardOutput
	err := workflow.ExecuteActivity(c.actx, a.ApplyCard, activities.ApplyCardInput{
		SEN: c.in.SEN, WorkflowID: c.t.st.WorkflowID, SessionID: got.SessionID, PaymentMethodID: got.PaymentMethodID, LinkID: got.LinkID,
	}).Get(ctx, &applied)
	if err != nil {
		workflow.GetLogger(ctx).Warn("captured card not applied", "err", err)
		return
	}
	c.retryNow, c.hard = true, false
}

// suspend sends the suspension notice (the activity suspends the licence).
func (c *collection) suspend(ctx workflow.Context) {
	c.suspended = true
	notice := activities.BillingNoticeInput{
		Kind: activities.NoticeSuspended, Number: c.in.Invoice, Key: fmt.Sprintf("%s/suspended", c.t.st.WorkflowID), Channel: c.in.Channel,
	}
	if c.auth.on {
		notice.Kind, notice.Suspend = activities.NoticeNeedsAuth, true
	}
	if c.ownLinks {
		notice.CardLinks = cardLinks(ctx, c.t.st.WorkflowID)
	}
	_ = workflow.ExecuteActivity(c.actx, a.BillingNotice, notice).Get(ctx, nil)
}

// giveUp ends the collection unpaid; the invoice stays open.
func (c *collection) giveUp(ctx workflow.Context) {
	msg := fmt.Sprintf("Stopped collecting %s: unpaid %s after its due date. /license charge %s tries again.", c.in.Invoice, days(c.in.Policy.GiveUpAfter), c.in.SEN)
	if c.ownLinks {
		_ = workflow.ExecuteActivity(c.actx, a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: c.t.st.WorkflowID, Reason: activities.RevokedExpired}).Get(ctx, nil)
	}
	c.t.end(ctx, operation.Failure, msg)
	c.result = CollectResult{Attempts: c.attempt - 1, Message: msg}
}

// paidByBank ends the collection paid: the cardholder confirmed an
// attempt with their bank.
func (c *collection) paidByBank(ctx workflow.Context) {
	p := c.auth.paid
	c.paid(ctx, activities.ChargeInvoiceOutput{Paid: true, Reactivated: p.Reactivated, WasStatus: p.WasStatus},
		fmt.Sprintf("Invoice %s paid: the cardholder confirmed attempt %d with their bank.", c.in.Invoice, p.Attempt))
}

// paid ends the collection: the invoice is paid.
func (c *collection) paid(ctx workflow.Context, res activities.ChargeInvoiceOutput, msg string) {
	_ = workflow.ExecuteActivity(c.actx, a.BillingNotice, activities.BillingNoticeInput{
		Kind: activities.NoticePaid, Number: c.in.Invoice, Key: fmt.Sprintf("%s/paid", c.t.st.WorkflowID),
		Reactivated: res.Reactivated, WasStatus: res.WasStatus, Channel: c.in.Channel,
	}).Get(ctx, nil)
	if c.ownLinks {
		tellCharged(ctx, c.replyTo, ChargeResult{Invoice: c.in.Invoice, Paid: true})
		_ = workflow.ExecuteActivity(c.actx, a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: c.t.st.WorkflowID, Reason: activities.RevokedDone}).Get(ctx, nil)
	}
	c.t.end(ctx, operation.Completed, msg)
	c.result = CollectResult{Paid: true, Attempts: c.attempt - 1, Message: msg}
}

// countCharge counts an attempt's outcome (licensedesk_charge_attempts).
func countCharge(ctx workflow.Context, res activities.ChargeInvoiceOutput) {
	outcome := "succeeded"
	switch {
	case !res.Paid && res.NeedsAuth:
		outcome = "needs_authentication"
	case !res.Paid && res.Hard:
		outcome = "declined_hard"
	case !res.Paid:
		outcome = "declined_soft"
	}
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"outcome": outcome}).Counter(metricCharges).Inc(1)
}

// cardLinkLife is how long the update-card links of a failure mail live
// (SPEC §3: card update 7 days).
const cardLinkLife = 7 * 24 * time.Hour

// cardLinks asks a billing notice to carry update-card links that lead
// back to the collection workflowID.
func cardLinks(ctx workflow.Context, workflowID string) *activities.CardLinks {
	return &activities.CardLinks{WorkflowID: workflowID, Deadline: workflow.Now(ctx).Add(cardLinkLife)}
}

// CardUpdated is the CardUpdatedSignal's payload.
type CardUpdated struct {
	ReplyTo string // a workflow to send the attempt's ChargeResult, if any
}

// ChargeResult is how the attempt a card update asked for ended.
type ChargeResult struct {
	Invoice string
	Paid    bool
	Reason  string // why it failed, for people
	Hard    bool
}

// tellCharged signals each waiting workflow the attempt's result. Best
// effort: one that has ended no longer listens.
func tellCharged(ctx workflow.Context, to []string, res ChargeResult) {
	for _, id := range to {
		if err := workflow.SignalExternalWorkflow(ctx, id, "", ChargeResultSignal, res).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Info("charge result not delivered", "to", id, "err", err)
		}
	}
}

// requestNewCard starts a CardUpdate (update-card links to those allowed)
// unless one is already running for the licence, in which case its links
// stand. Only collections started before version 1 of
// "collect-own-card-links" do this.
func requestNewCard(ctx workflow.Context, sen licensing.SEN, channel string) {
	child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:        operation.CardUpdateID(sen),
		ParentClosePolicy: enums.PARENT_CLOSE_POLICY_ABANDON,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			AttrLicenseSEN.ValueSet(string(sen)), AttrOperation.ValueSet(string(operation.KindCard))),
	})
	f := workflow.ExecuteChildWorkflow(child, CardUpdate, CardUpdateInput{SEN: sen, By: Requester{Channel: channel}})
	if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Info("update-card links not sent again", "err", err)
	}
}

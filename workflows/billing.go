package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/operation"
)

// Billing signals.
const (
	CardUpdatedSignal  = "card-updated"  // a new default card is set: retry at once
	ChargeNowSignal    = "charge-now"    // /license charge: retry at once
	CardCapturedSignal = "card-captured" // the provider reports a captured card (webhook)
)

// RetryPolicy is the dunning schedule, licensing.DunningSchedule (not
// Temporal's activity RetryPolicy). The alias keeps workflow inputs
// (CollectInput.Policy, BillingCycleInput.Policy) and their callers as
// they were: same type, same wire format.
type RetryPolicy = licensing.DunningSchedule

// DefaultRetryPolicy is licensing.DefaultDunning.
var DefaultRetryPolicy = licensing.DefaultDunning

// ParseRetryPolicy is licensing.ParseDunningSchedule, for its callers.
func ParseRetryPolicy(retryDays, suspendDays string) (RetryPolicy, error) {
	return licensing.ParseDunningSchedule(retryDays, suspendDays)
}

// CollectInput names the invoice to collect.
type CollectInput struct {
	SEN     licensing.SEN
	Invoice string // invoice number
	Policy  RetryPolicy
	Channel string // Slack channel for alerts
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
	actx := withActivities(ctx)
	// Version 1: the failure mails carry their own update-card links, whose
	// cards come back here (CardCapturedSignal), and whoever asked for a
	// charge with a new card hears its result (CardUpdate.ReplyTo). Runs
	// started before started a CardUpdate after each failure instead.
	ownLinks := workflow.GetVersion(ctx, "collect-own-card-links", workflow.DefaultVersion, 1) >= 1
	// Version 1: a charge the bank wants the cardholder to confirm (SCA)
	// waits for them instead of for a new card (authenticate.go).
	sca := workflow.GetVersion(ctx, "collect-sca", workflow.DefaultVersion, 1) >= 1

	var inv activities.InvoiceStateOutput
	if err := workflow.ExecuteActivity(actx, a.InvoiceState, activities.InvoiceStateInput{Number: in.Invoice}).Get(ctx, &inv); err != nil {
		return CollectResult{}, err
	}
	if inv.Paid {
		t.end(ctx, operation.Completed, "Already paid.")
		return CollectResult{Paid: true}, nil
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrCustomerEmails.ValueSet(emails(inv.BillingContacts...)))

	retryNow := false
	cardCh := workflow.GetSignalChannel(ctx, CardUpdatedSignal)
	chargeCh := workflow.GetSignalChannel(ctx, ChargeNowSignal)
	capturedCh := workflow.GetSignalChannel(ctx, CardCapturedSignal)
	attempt := inv.Attempts + 1
	suspendAt := in.Policy.SuspendAt(inv.DueDate)
	giveUpAt := in.Policy.GiveUpAt(inv.DueDate)
	suspended := inv.LicenseStatus == licensing.Suspended
	hard := inv.LastHard
	auth := &authWait{on: sca && inv.LastNeedsAuth, attempt: inv.Attempts, ch: workflow.GetSignalChannel(ctx, PaymentAuthenticatedSignal)}
	if auth.on {
		hard = false // it waits for the cardholder, not for a new card
	}
	var replyTo []string // workflows waiting for the next attempt's result
	if in.ReplyTo != "" && ownLinks {
		replyTo = append(replyTo, in.ReplyTo)
	}
	cardUpdated := func(c workflow.ReceiveChannel) {
		var u CardUpdated
		c.Receive(ctx, &u)
		retryNow, hard = true, false
		if ownLinks && u.ReplyTo != "" && !slices.Contains(replyTo, u.ReplyTo) {
			replyTo = append(replyTo, u.ReplyTo)
		}
	}
	// A card saved through one of this collection's own links: make it the
	// default, then charge at once. A stale or repeated report is noted
	// and ignored.
	captured := func(c workflow.ReceiveChannel) {
		var got CardCaptured
		c.Receive(ctx, &got)
		var applied activities.ApplyCardOutput
		err := workflow.ExecuteActivity(actx, a.ApplyCard, activities.ApplyCardInput{
			SEN: in.SEN, WorkflowID: t.st.WorkflowID, SessionID: got.SessionID, PaymentMethodID: got.PaymentMethodID, LinkID: got.LinkID,
		}).Get(ctx, &applied)
		if err != nil {
			workflow.GetLogger(ctx).Warn("captured card not applied", "err", err)
			return
		}
		retryNow, hard = true, false
	}

	// paidNow ends the collection: the invoice is paid.
	paidNow := func(res activities.ChargeInvoiceOutput, msg string) (CollectResult, error) {
		_ = workflow.ExecuteActivity(actx, a.BillingNotice, activities.BillingNoticeInput{
			Kind: activities.NoticePaid, Number: in.Invoice, Key: fmt.Sprintf("%s/paid", t.st.WorkflowID),
			Reactivated: res.Reactivated, WasStatus: res.WasStatus, Channel: in.Channel,
		}).Get(ctx, nil)
		if ownLinks {
			tellCharged(ctx, replyTo, ChargeResult{Invoice: in.Invoice, Paid: true})
			_ = workflow.ExecuteActivity(actx, a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: activities.RevokedDone}).Get(ctx, nil)
		}
		t.end(ctx, operation.Completed, msg)
		return CollectResult{Paid: true, Attempts: attempt - 1, Message: msg}, nil
	}

	// The first attempt runs at once unless earlier attempts exist (a
	// resumed collection): then it waits for the next retry time. One the
	// sweep made (in.Charged) is taken as this first attempt.
	charged := in.Charged
	charge := inv.Attempts == 0 || in.ChargeNow || charged != nil
	for {
		if charge {
			t.begin(ctx, stepCharge)
			var res activities.ChargeInvoiceOutput
			if charged != nil {
				// Attempt 1, made and counted by the sweep.
				res, charged, attempt = *charged, nil, max(attempt, 2)
			} else {
				if err := workflow.ExecuteActivity(actx, a.ChargeInvoice, activities.ChargeInvoiceInput{
					Number: in.Invoice, Attempt: attempt, Authenticate: sca,
				}).Get(ctx, &res); err != nil {
					return CollectResult{}, err
				}
				attempt++
				countCharge(ctx, res)
			}
			if res.Paid {
				return paidNow(res, fmt.Sprintf("Invoice %s paid (attempt %d).", in.Invoice, attempt-1))
			}
			if auth.on = sca && res.NeedsAuth; auth.on {
				hard = false
				auth.ask(ctx, t, in, attempt-1, suspendAt, replyTo)
				replyTo = nil
				t.done(stepCharge)
				goto wait // not a failure: no failure notice, no suspension now
			}
			hard = res.Hard
			next, exhausted := in.Policy.AfterFailure(workflow.Now(ctx), inv.DueDate, hard)
			if exhausted && !suspended {
				suspended = true
			}
			notice := activities.BillingNoticeInput{
				Kind: activities.NoticeFailed, Number: in.Invoice, Key: fmt.Sprintf("%s/failed/%d", t.st.WorkflowID, attempt-1),
				Reason: res.Reason, Hard: hard, NextRetry: next, SuspendOn: suspendAt, Suspend: exhausted, Channel: in.Channel,
			}
			if ownLinks {
				notice.CardLinks = cardLinks(ctx, t.st.WorkflowID)
			}
			_ = workflow.ExecuteActivity(actx, a.BillingNotice, notice).Get(ctx, nil)
			if ownLinks {
				tellCharged(ctx, replyTo, ChargeResult{Invoice: in.Invoice, Reason: res.Reason, Hard: hard})
			} else {
				requestNewCard(ctx, in.SEN, in.Channel)
			}
			replyTo = nil
			t.done(stepCharge)
		}
	wait:
		charge = false

		// Wait for whichever comes first: a new card, /license charge, the
		// next scheduled retry, suspension, or giving up.
		now := workflow.Now(ctx)
		next, wake := in.Policy.Wake(now, inv.DueDate, hard, suspended)
		switch {
		case auth.on:
			t.begin(ctx, stepAuthenticate)
			t.waiting(ctx, inv.BillingContacts, wake)
		case hard:
			t.begin(ctx, stepNewCard)
		default:
			t.begin(ctx, stepRetry)
		}
		t.st.Deadline = wake
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(cardCh, func(c workflow.ReceiveChannel, _ bool) { cardUpdated(c) })
		sel.AddReceive(chargeCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); retryNow = true })
		if ownLinks {
			sel.AddReceive(capturedCh, func(c workflow.ReceiveChannel, _ bool) { captured(c) })
		}
		if sca {
			sel.AddReceive(auth.ch, func(workflow.ReceiveChannel, bool) { auth.settle(ctx, in.Invoice) })
		}
		sel.AddFuture(workflow.NewTimer(timerCtx, wake.Sub(now)), func(workflow.Future) {})
		sel.Select(ctx)
		cancelTimer()
		// Several signals may be queued (a card update and /license charge
		// together): drain them so they make one attempt.
		for cardCh.Len() > 0 {
			cardUpdated(cardCh)
		}
		for chargeCh.ReceiveAsync(nil) {
			retryNow = true
		}
		now = workflow.Now(ctx)
		switch {
		case auth.paid != nil:
			return paidNow(activities.ChargeInvoiceOutput{Paid: true, Reactivated: auth.paid.Reactivated, WasStatus: auth.paid.WasStatus}, fmt.Sprintf("Invoice %s paid: the cardholder confirmed attempt %d with their bank.", in.Invoice, auth.paid.Attempt))
		case retryNow:
			retryNow, charge = false, true
		case !next.IsZero() && !now.Before(next) && auth.on:
			if charge = !auth.remind(ctx, t, in, suspendAt); auth.paid != nil {
				return paidNow(activities.ChargeInvoiceOutput{Paid: true, Reactivated: auth.paid.Reactivated, WasStatus: auth.paid.WasStatus}, fmt.Sprintf("Invoice %s paid: the cardholder confirmed attempt %d with their bank.", in.Invoice, auth.paid.Attempt))
			}
		case !next.IsZero() && !now.Before(next):
			charge = true
		case !suspended && !now.Before(suspendAt):
			suspended = true
			notice := activities.BillingNoticeInput{
				Kind: activities.NoticeSuspended, Number: in.Invoice, Key: fmt.Sprintf("%s/suspended", t.st.WorkflowID), Channel: in.Channel,
			}
			if auth.on {
				notice.Kind, notice.Suspend = activities.NoticeNeedsAuth, true
			}
			if ownLinks {
				notice.CardLinks = cardLinks(ctx, t.st.WorkflowID)
			}
			_ = workflow.ExecuteActivity(actx, a.BillingNotice, notice).Get(ctx, nil)
		case !now.Before(giveUpAt):
			msg := fmt.Sprintf("Stopped collecting %s: unpaid %s after its due date. /license charge %s tries again.", in.Invoice, days(in.Policy.GiveUpAfter), in.SEN)
			if ownLinks {
				_ = workflow.ExecuteActivity(actx, a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: activities.RevokedExpired}).Get(ctx, nil)
			}
			t.end(ctx, operation.Failure, msg)
			return CollectResult{Attempts: attempt - 1, Message: msg}, nil
		}
	}
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

// ChargeResultSignal tells a workflow that asked for a charge (a card
// update) how the attempt went.
const ChargeResultSignal = "charge-result"

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

// BillingCycleInput names the licence.
type BillingCycleInput struct {
	SEN     licensing.SEN
	Channel string
	Policy  RetryPolicy
}

// BillingSweepInput tunes one sweep.
type BillingSweepInput struct {
	PageSize int // licences invoiced, or collections started, per activity [500]
	// ChargePage is how many invoices one page of first attempts takes
	// [250], and Lanes how many walks of the outbox go side by side [2]
	// (version 1 of "sweep-charges-first-attempts").
	ChargePage, Lanes int

	// Where a sweep that continued as new on a long billing day stands.
	Continued bool
	Run       int64              // its billing run (0: none)
	Walk      []int64            // each lane's position in the outbox (an invoice id); nil: at the start
	Pass      int                // the walk's pass: later passes take what the provider did not answer
	Deferred  int                // invoices the provider did not answer, this pass
	Notices   int                // payment-mail workflows started so far
	Done      BillingSweepResult // what the runs before did
}

// BillingSweepResult says what one sweep did.
type BillingSweepResult struct {
	Invoiced, Started int
	Reminded          int // reminder mails sent (renewals, card handovers)
	// Version 1: first attempts paid, declined (handed to dunning), and
	// collections started as before (earlier attempts); Deferred are left
	// in the outbox for the next sweep (the provider did not answer).
	Paid, Declined, HandedOff, Deferred int
}

const (
	stepSweepInvoice   = "invoice"
	stepSweepCollect   = "collect"
	stepSweepReminders = "remind"
)

// BillingSweep is billing: a Temporal Schedule starts it every few
// minutes (temporalclient.Client.EnsureBilling). It invoices every licence
// whose billing date has come, a page at a time in date order (each page
// moves its licences' dates on, so they leave the due set), then starts
// the collection of every invoice that has none yet (the outbox
// invoices.collection_started_at). Its cost grows with what is due, not
// with the number of licences: importing a million licences starts no
// workflow, and renewing or cancelling one is a row change. Every step is
// idempotent, so a sweep that dies is simply done again by the next.
func BillingSweep(ctx workflow.Context, in BillingSweepInput) (BillingSweepResult, error) {
	// Version 1 (issue 18): the sweep charges first attempts itself, in
	// pages, and posts a digest (sweep.go). Runs started before start a
	// collection per invoice, as below.
	if workflow.GetVersion(ctx, "sweep-charges-first-attempts", workflow.DefaultVersion, 1) >= 1 {
		return billingSweepCharging(ctx, in)
	}
	if in.PageSize <= 0 {
		in.PageSize = 500
	}
	// Version 1: the sweep also sends the reminders that are due (annual
	// renewals 30 days ahead, card handovers 14 days after a move).
	remind := workflow.GetVersion(ctx, "sweep-reminders", workflow.DefaultVersion, 1) >= 1
	steps := []operation.Step{
		{Key: stepSweepInvoice, Title: "Invoice the licences whose billing date has come"},
		{Key: stepSweepCollect, Title: "Start the collection of every new invoice"},
	}
	if remind {
		steps = append(steps, operation.Step{Key: stepSweepReminders, Title: "Send the reminders that are due"})
	}
	t, err := newTracker(ctx, operation.KindBilling, "", "Billing sweep", Requester{}, steps...)
	if err != nil {
		return BillingSweepResult{}, err
	}
	actx := withActivities(ctx)
	var res BillingSweepResult
	t.begin(ctx, stepSweepInvoice)
	for {
		var page activities.InvoiceDueOutput
		if err := workflow.ExecuteActivity(actx, a.InvoiceDue, activities.InvoiceDueInput{Today: workflow.Now(ctx), Limit: in.PageSize}).Get(ctx, &page); err != nil {
			return res, err
		}
		res.Invoiced += page.Invoiced
		if page.Moved < in.PageSize {
			break
		}
	}
	t.done(stepSweepInvoice)
	t.begin(ctx, stepSweepCollect)
	for {
		var page activities.StartCollectionsOutput
		if err := workflow.ExecuteActivity(actx, a.StartCollections, activities.StartCollectionsInput{Limit: in.PageSize}).Get(ctx, &page); err != nil {
			return res, err
		}
		res.Started += page.Started
		if page.Started < in.PageSize {
			break
		}
	}
	msg := fmt.Sprintf("%d invoices created, %d collections started.", res.Invoiced, res.Started)
	if remind {
		t.done(stepSweepCollect)
		if err := sweepReminders(ctx, t, in.PageSize, &res); err != nil {
			return res, err
		}
		msg += fmt.Sprintf(" %d reminders mailed.", res.Reminded)
	}
	_, err = t.finish(ctx, operation.Completed, msg)
	return res, err
}

// remindersPage is how many reminders one activity sends: each is a few
// mails, and an activity has 30 seconds.
const remindersPage = 50

// sweepReminders queues the renewal reminders that fell due (a page at a
// time, each page marking its licences so they leave the due set) and
// sends every reminder in the outbox. Like the rest of the sweep, its cost
// grows with what is due, and a sweep that dies leaves the rest to the
// next.
func sweepReminders(ctx workflow.Context, t *tracker, pageSize int, res *BillingSweepResult) error {
	actx := withActivities(ctx)
	t.begin(ctx, stepSweepReminders)
	for {
		var page activities.QueueRenewalsOutput
		if err := workflow.ExecuteActivity(actx, a.QueueRenewals, activities.QueueRenewalsInput{Today: workflow.Now(ctx), Limit: pageSize}).Get(ctx, &page); err != nil {
			return err
		}
		if page.Marked < pageSize {
			break
		}
	}
	for {
		var page activities.SendRemindersOutput
		if err := workflow.ExecuteActivity(actx, a.SendReminders, activities.SendRemindersInput{Today: workflow.Now(ctx), Limit: remindersPage}).Get(ctx, &page); err != nil {
			return err
		}
		res.Reminded += page.Mailed
		if page.Done < remindersPage {
			return nil
		}
	}
}

// BillingCycle runs one billing cycle of a cloud licence per run: it sleeps
// until the next billing date, invoices the period, starts CollectInvoice
// for it (which lives on its own) and continues as new for the next cycle.
// A long-running workflow (rather than a Temporal Schedule) because each
// licence's date moves with its cycle and status, and the workflow reads it
// afresh each time; cancelled licences end their cycle. It answers the
// status query like every operation, with the next billing date as its
// deadline.
//
// Billing is now BillingSweep's; runs of BillingCycle still in flight from
// an earlier version finish the cycle they sleep in (invoice, collection:
// the sweep's SQL is idempotent with theirs per period), and the run they
// continue as new ends at once. Nothing starts new ones.
func BillingCycle(ctx workflow.Context, in BillingCycleInput) error {
	if workflow.GetVersion(ctx, "billing-by-sweep", workflow.DefaultVersion, 1) >= 1 {
		return nil
	}
	t, err := newTracker(ctx, operation.KindBilling, in.SEN, "Billing cycle of "+string(in.SEN), Requester{},
		operation.Step{Key: stepBillingWait, Title: "Wait for the next billing date"},
		operation.Step{Key: stepBillingInvoice, Title: "Invoice the period and start its collection"},
	)
	if err != nil {
		return err
	}
	// Runs started before the status contract set no search attributes
	// beyond those given at start; they keep doing so until they continue
	// as new.
	attrs := workflow.GetVersion(ctx, "billing-search-attributes", workflow.DefaultVersion, 1) >= 1
	begin := func(step string) {
		if attrs {
			t.begin(ctx, step)
			return
		}
		t.st.Step = step
		t.set(step, operation.Active)
	}
	actx := withActivities(ctx)
	var next activities.NextBillingOutput
	if err := workflow.ExecuteActivity(actx, a.NextBilling, activities.NextBillingInput{SEN: in.SEN}).Get(ctx, &next); err != nil {
		return err
	}
	if attrs && len(next.BillingContacts) > 0 {
		_ = workflow.UpsertTypedSearchAttributes(ctx, AttrCustomerEmails.ValueSet(emails(next.BillingContacts...)))
	}
	if !next.Billable {
		t.st.Done, t.st.Outcome, t.st.Message = true, operation.Completed, string(in.SEN)+" is not billed (a server or cancelled licence)."
		return nil // server or cancelled licence: nothing to bill
	}
	begin(stepBillingWait)
	t.st.Deadline = next.Date
	if wait := next.Date.Sub(workflow.Now(ctx)); wait > 0 {
		if err := workflow.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	t.done(stepBillingWait)
	t.st.Deadline = time.Time{}
	begin(stepBillingInvoice)
	var inv activities.CreateInvoiceOutput
	if err := workflow.ExecuteActivity(actx, a.CreateInvoice, activities.CreateInvoiceInput{SEN: in.SEN, PeriodStart: next.Date}).Get(ctx, &inv); err != nil {
		return err
	}
	if inv.Number != "" {
		child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:        operation.InvoiceID(inv.Number),
			ParentClosePolicy: enums.PARENT_CLOSE_POLICY_ABANDON, // collection outlives this cycle's run
			TypedSearchAttributes: temporal.NewSearchAttributes(
				AttrLicenseSEN.ValueSet(string(in.SEN)), AttrOperation.ValueSet(string(operation.KindInvoice))),
		})
		f := workflow.ExecuteChildWorkflow(child, CollectInvoice, CollectInput{SEN: in.SEN, Invoice: inv.Number, Policy: in.Policy, Channel: in.Channel})
		_ = f.GetChildWorkflowExecution().Get(ctx, nil)
	}
	return workflow.NewContinueAsNewError(ctx, BillingCycle, in)
}

const (
	stepBillingWait    = "wait"
	stepBillingInvoice = "invoice"
)

// CardUpdateInput asks for a new card on a licence.
type CardUpdateInput struct {
	SEN    licensing.SEN
	By     Requester
	Expiry time.Duration // how long the links live; default 7 days (SPEC §3)
	// For, when set, is the one signed-in person who updates the card from
	// the account page: nobody is emailed, and the account page makes
	// their link (workflow ID CardUpdateForID).
	For licensing.Email
}

// CardCaptured is what the payment provider reported (webhook).
type CardCaptured struct {
	SessionID       string
	PaymentMethodID string
	LinkID          int64
}

const (
	stepCardLinks  = "links"
	stepCardWait   = "wait"
	stepCardApply  = "apply"
	stepCardCharge = "charge"
)

// CardUpdate emails update-card links to exactly the people allowed to use
// them (monthly: billing and technical contacts and site admins; annual:
// site admins only), waits up to 7 days for one of them to capture a card
// with the provider, makes it the default and, if the licence is past due,
// has the open invoice charged at once. The permission is checked again
// when a link is used and when the card is applied.
func CardUpdate(ctx workflow.Context, in CardUpdateInput) (Result, error) {
	if in.Expiry <= 0 {
		in.Expiry = 7 * 24 * time.Hour
	}
	t, err := newTracker(ctx, operation.KindCard, in.SEN, "Update the card of "+string(in.SEN), in.By,
		operation.Step{Key: stepCardLinks, Title: "Email update-card links to those allowed"},
		operation.Step{Key: stepCardWait, Title: "Someone saves a new card"},
		operation.Step{Key: stepCardApply, Title: "Make it the default"},
		operation.Step{Key: stepCardCharge, Title: "Charge what is due with it"},
	)
	if err != nil {
		return Result{}, err
	}
	actx := withActivities(ctx)

	t.begin(ctx, stepCardLinks)
	var plan activities.PlanCardUpdateOutput
	if err := workflow.ExecuteActivity(actx, a.PlanCardUpdate, activities.PlanCardUpdateInput{SEN: in.SEN}).Get(ctx, &plan); err != nil {
		return t.fail(ctx, err)
	}
	deadline := workflow.Now(ctx).Add(in.Expiry)
	if in.For != "" {
		// From the account page: only that person, who must be allowed.
		if !slices.Contains(plan.Recipients, in.For) {
			return t.fail(ctx, temporalerr.New(licensing.Forbidden, fmt.Sprintf("%s may not update the card of %s.", in.For, in.SEN)))
		}
		plan.Recipients = []licensing.Email{in.For}
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrCustomerEmails.ValueSet(emails(plan.Recipients...)))
	if in.For == "" {
		if err := t.sendLinks(ctx, activities.SendLinksInput{
			Purpose: licensing.PurposeCardUpdate, To: plan.Recipients, SEN: in.SEN, WorkflowID: t.st.WorkflowID, MailKey: t.mailKey(), Deadline: deadline,
			RequestedBy: in.By.Asker(),
		}); err != nil {
			return t.fail(ctx, err)
		}
	}
	t.done(stepCardLinks)
	if in.For == "" {
		t.note(ctx, "Update-card links sent to "+emailList(plan.Recipients)+".")
	}

	t.begin(ctx, stepCardWait)
	t.waiting(ctx, plan.Recipients, deadline)
	capturedCh := workflow.GetSignalChannel(ctx, CardCapturedSignal)
	var applied activities.ApplyCardOutput
	for {
		var got CardCaptured
		timer, cancel := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		received := false
		sel.AddReceive(capturedCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &got); received = true })
		sel.AddFuture(workflow.NewTimer(timer, deadline.Sub(workflow.Now(ctx))), func(workflow.Future) {})
		sel.Select(ctx)
		cancel()
		if err := ctx.Err(); err != nil {
			dctx, _ := workflow.NewDisconnectedContext(ctx)
			_ = workflow.ExecuteActivity(withActivities(dctx), a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: activities.RevokedCancelled}).Get(dctx, nil)
			// Version 1: those sent a link are told (review #14).
			if workflow.GetVersion(dctx, "cancel-tells-waiting", workflow.DefaultVersion, 1) >= 1 {
				t.tellCancelled(dctx, activities.NotifyInput{SEN: in.SEN, Operation: "card"})
			}
			t.end(dctx, operation.Cancelled, "Cancelled by "+orSomeone(t.cancelBy)+"; the card is unchanged.")
			return Result{Outcome: operation.Cancelled}, temporal.NewCanceledError()
		}
		if !received {
			_ = workflow.ExecuteActivity(actx, a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: activities.RevokedExpired}).Get(ctx, nil)
			msg := "Nobody saved a new card within " + days(in.Expiry) + "; the card is unchanged."
			return t.finish(ctx, operation.Expired, msg)
		}
		t.done(stepCardWait)
		t.begin(ctx, stepCardApply)
		err := workflow.ExecuteActivity(actx, a.ApplyCard, activities.ApplyCardInput{
			SEN: in.SEN, WorkflowID: t.st.WorkflowID, SessionID: got.SessionID, PaymentMethodID: got.PaymentMethodID, LinkID: got.LinkID,
		}).Get(ctx, &applied)
		if de := temporalerr.ToDomain(err); de != nil {
			// A duplicate or stale report (webhook delivered twice, a link
			// no longer allowed): note it and keep waiting for a good one.
			t.note(ctx, "Card not applied: "+de.Message)
			t.set(stepCardApply, operation.Pending)
			t.begin(ctx, stepCardWait)
			continue
		}
		if err != nil {
			return Result{}, err
		}
		t.done(stepCardApply)
		break
	}
	_ = workflow.ExecuteActivity(actx, a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: activities.RevokedDone}).Get(ctx, nil)
	// Version 1: the card update waits to hear how the charge it asked for
	// went, so its message says what happened rather than what should.
	hearResult := workflow.GetVersion(ctx, "card-hears-charge-result", workflow.DefaultVersion, 1) >= 1
	var replyTo string
	if hearResult {
		replyTo = t.st.WorkflowID
	}
	if applied.Invoice != "" {
		// Past due: the open invoice is charged at once. Its collection may
		// have stopped (after 60 days); then it starts again.
		var payload any
		if hearResult {
			payload = CardUpdated{ReplyTo: replyTo}
		}
		err := workflow.SignalExternalWorkflow(ctx, operation.InvoiceID(applied.Invoice), "", CardUpdatedSignal, payload).Get(ctx, nil)
		if err != nil {
			child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
				WorkflowID: operation.InvoiceID(applied.Invoice), ParentClosePolicy: enums.PARENT_CLOSE_POLICY_ABANDON,
				WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
				TypedSearchAttributes: temporal.NewSearchAttributes(AttrLicenseSEN.ValueSet(string(in.SEN)), AttrOperation.ValueSet(string(operation.KindInvoice))),
			})
			f := workflow.ExecuteChildWorkflow(child, CollectInvoice, CollectInput{SEN: in.SEN, Invoice: applied.Invoice, Channel: in.By.Channel, ChargeNow: true, ReplyTo: replyTo})
			_ = f.GetChildWorkflowExecution().Get(ctx, nil)
		}
	}
	msg := fmt.Sprintf("%s saved a new card (%s) for %s.", applied.By, applied.Card, in.SEN)
	outcome := operation.Completed
	switch {
	case applied.Invoice == "":
		msg += " It will be charged on the next billing date."
	case !hearResult:
		msg += fmt.Sprintf(" Invoice %s is being charged now.", applied.Invoice)
	default:
		t.begin(ctx, stepCardCharge)
		var res ChargeResult
		got := false
		timer, cancel := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(workflow.GetSignalChannel(ctx, ChargeResultSignal), func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &res); got = true })
		sel.AddFuture(workflow.NewTimer(timer, chargeResultWait), func(workflow.Future) {})
		sel.Select(ctx)
		cancel()
		switch {
		case !got:
			msg += fmt.Sprintf(" Invoice %s is being charged with it; the result goes to the billing contacts and the billing channel.", applied.Invoice)
		case res.Paid:
			msg += fmt.Sprintf(" Invoice %s is paid.", applied.Invoice)
		default:
			outcome = operation.Failure
			msg += fmt.Sprintf(" Charging invoice %s with it failed: %s The billing contacts were emailed.", applied.Invoice, orDeclined(res.Reason))
		}
	}
	t.end(ctx, outcome, msg)
	return Result{Outcome: outcome, Message: msg}, nil
}

// chargeResultWait bounds how long a card update waits to hear how the
// charge it asked for went.
const chargeResultWait = 2 * time.Minute

func orDeclined(reason string) string {
	if reason == "" {
		return "the card was declined."
	}
	return reason
}

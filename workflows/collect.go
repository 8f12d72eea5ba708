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

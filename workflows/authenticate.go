package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/payments"
)

// Bank authentication (SCA) in an invoice's collection (CollectInvoice,
// version "collect-sca"). When the bank wants the cardholder to confirm a
// charge, the invoice waits for them: those allowed to pay are mailed a
// link to the bank's check of that same charge (and another card as the
// other way), no charge is retried off-session, reminders go out on the
// retry schedule (each first asks the provider, in case its report was
// lost), and the licence is suspended on the usual date. The provider's
// report (PaymentAuthenticatedSignal, from the webhook) makes the
// collection ask the provider and, if the charge succeeded, the invoice is
// paid. A new card or /license charge charges again, which first cancels
// the waiting charge (activities.ChargeInvoice): never two payments.

// PaymentAuthenticated is PaymentAuthenticatedSignal's payload: what the
// provider reported. The collection checks with the provider; the payload
// decides nothing.
type PaymentAuthenticated struct {
	ChargeID string
	EventID  string
}

// authWait is a collection's wait for the cardholder.
type authWait struct {
	on        bool // the latest attempt waits for the cardholder
	attempt   int  // that attempt
	reminders int  // reminders sent for it
	ch        workflow.ReceiveChannel
	paid      *activities.SettleAuthenticationOutput // set once the provider says it succeeded
}

// ask mails those allowed to pay (NoticeNeedsAuth, with their own links)
// and tells whoever asked for this attempt how it went.
func (w *authWait) ask(ctx workflow.Context, t *tracker, in CollectInput, attempt int, suspendAt time.Time, replyTo []string) {
	w.attempt, w.reminders = attempt, 0
	w.notice(ctx, t, in, suspendAt, fmt.Sprintf("%s/auth/%d", t.st.WorkflowID, attempt), false)
	tellCharged(ctx, replyTo, ChargeResult{Invoice: in.Invoice, Reason: "The bank wants the cardholder to confirm this payment; those allowed to pay were emailed a link."})
}

func (w *authWait) notice(ctx workflow.Context, t *tracker, in CollectInput, suspendAt time.Time, key string, reminder bool) {
	_ = workflow.ExecuteActivity(withActivities(ctx), a.BillingNotice, activities.BillingNoticeInput{
		Kind: activities.NoticeNeedsAuth, Number: in.Invoice, Key: key, SuspendOn: suspendAt, Reminder: reminder,
		Channel: in.Channel, CardLinks: cardLinks(ctx, t.st.WorkflowID),
	}).Get(ctx, nil)
}

// settle takes the provider's report (and any repeats of it queued
// behind) and asks the provider once where the charge stands.
func (w *authWait) settle(ctx workflow.Context, invoice string) {
	var got PaymentAuthenticated
	w.ch.Receive(ctx, &got)
	for w.ch.ReceiveAsync(nil) {
	}
	w.check(ctx, invoice)
}

// check asks the provider about the waiting charge; it reports whether
// one still waits (false: none does, nor was the invoice paid).
func (w *authWait) check(ctx workflow.Context, invoice string) bool {
	var res activities.SettleAuthenticationOutput
	if err := workflow.ExecuteActivity(withActivities(ctx), a.SettleAuthentication, activities.SettleAuthenticationInput{Number: invoice}).Get(ctx, &res); err != nil {
		workflow.GetLogger(ctx).Warn("checking the charge waiting for the cardholder failed", "err", err)
		return true
	}
	if res.Paid {
		w.paid = &res
		workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"outcome": "authenticated"}).Counter(metricCharges).Inc(1)
		return true
	}
	return res.Status != "" && res.Status != payments.ChargeCanceled
}

// remind is a retry time while the charge waits: if the provider says it
// succeeded (its report lost), the invoice is paid; if it still waits, a
// reminder goes out. It returns false when nothing waits any more, so the
// collection charges as it would have.
func (w *authWait) remind(ctx workflow.Context, t *tracker, in CollectInput, suspendAt time.Time) bool {
	if !w.check(ctx, in.Invoice) {
		w.on = false
		return false
	}
	if w.paid != nil {
		return true
	}
	w.reminders++
	w.notice(ctx, t, in, suspendAt, fmt.Sprintf("%s/auth/%d/reminder/%d", t.st.WorkflowID, w.attempt, w.reminders), true)
	return true
}

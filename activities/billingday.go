package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/sync/errgroup"

	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/pacing"
	"licensedesk/payments"
	"licensedesk/postgres"
)

// Billing day: the sweep charges the first attempt of every new invoice
// itself, in pages, paced to the provider's limit; only the invoices the
// card declined get a collection workflow of their own, for dunning. So
// 280,000 invoices due on the 1st cost a page activity per few hundred,
// not three activities and a workflow each, and the provider's rate limit,
// not the orchestration, is what bounds the day.

// DunningStarter starts the collection of invoices whose first attempt the
// billing sweep made and the card declined: each carries on from that
// attempt (mails the failure, retries on schedule). temporalclient.Client.
type DunningStarter interface {
	StartDunning(ctx context.Context, declined []Declined) error
}

// Declined is an invoice whose first attempt the card declined.
type Declined struct {
	Invoice postgres.InvoiceRef
	First   ChargeInvoiceOutput
}

// OpenBillingRunInput names the sweep whose run it is: its workflow ID and
// first run ID, the same across its continue-as-new runs.
type OpenBillingRunInput struct {
	WorkflowKey string
}

// OpenBillingRunOutput names the run; 0 when nothing waits to be charged.
type OpenBillingRunOutput struct {
	Run int64
}

// OpenBillingRun starts the billing run of a sweep: it claims every new
// invoice in the collection outbox (postgres.DB.OpenBillingRun), and its
// digest will go to the alert channel. Idempotent by WorkflowKey.
func (a *Activities) OpenBillingRun(ctx context.Context, in OpenBillingRunInput) (OpenBillingRunOutput, error) {
	run, err := a.DB.OpenBillingRun(ctx, in.WorkflowKey, a.AlertChannel)
	return OpenBillingRunOutput{Run: run}, err
}

// FinishBillingRunInput names a run.
type FinishBillingRunInput struct {
	Run int64
}

// FinishBillingRun records that the run made every first attempt.
func (a *Activities) FinishBillingRun(ctx context.Context, in FinishBillingRunInput) error {
	return a.DB.FinishBillingRun(ctx, in.Run)
}

// ChargeFirstAttemptsInput is one page of the collection outbox.
type ChargeFirstAttemptsInput struct {
	After int64 // the page starts after this invoice id
	Limit int
	// Lane of Lanes: the page takes only invoices whose id is Lane modulo
	// Lanes, so that Lanes walks of the outbox go side by side (0, 0: one).
	Lane, Lanes int
}

// PaidInvoice is an invoice a first attempt paid.
type PaidInvoice struct {
	Number      string
	Reactivated bool
	WasStatus   licensing.Status // with Reactivated: past_due or suspended, so the mail says which
}

// ChargeFirstAttemptsOutput says what became of the page.
type ChargeFirstAttemptsOutput struct {
	Seen      int   // invoices in the page; fewer than Limit: the walk is done
	Last      int64 // the last invoice id seen: the next page starts after it
	Paid      []PaidInvoice
	Declined  int // handed to their collection workflows, for dunning
	Hard      int // of which hard declines
	HandedOff int // collections started as before: earlier attempts exist, or a refusal only a collection shows
	Deferred  int // no answer (a 5xx, a 429, a time out, a database hiccup): left in the outbox for the next pass
}

// firstAttemptBackoff is how long a first attempt without an answer waits
// before each of its tries again within the page.
var firstAttemptBackoff = []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}

// defaultChargeConcurrency is how many first attempts of a page are in
// flight: enough to keep the provider's rate with its latency (25/s at
// 300 ms needs 8), while the pacer keeps the rate.
const defaultChargeConcurrency = 32

type firstKind int

const (
	firstHandOff firstKind = iota
	firstPaid
	firstDeclined
	firstDeferred
)

type firstResult struct {
	kind firstKind
	out  ChargeInvoiceOutput
}

// ChargeFirstAttempts charges the first attempt of each invoice in one page
// of the collection outbox that a billing run claimed, several at a time
// (the paced provider keeps them to its limit), heartbeating as it goes.
// Paid invoices are recorded for the digest and leave the outbox; declined
// ones leave it with a collection workflow that carries on from the
// decline; invoices with earlier attempts (or a refusal no retry cures)
// get their collection as before. An invoice the provider did not answer,
// or that failed for any passing reason, stays in the outbox: a 429 or a
// 5xx is never a decline.
// Idempotent per invoice: attempt 1's row and key are the invoice's, so a
// page run again after a crash charges nobody twice.
func (a *Activities) ChargeFirstAttempts(ctx context.Context, in ChargeFirstAttemptsInput) (ChargeFirstAttemptsOutput, error) {
	page, err := a.DB.CollectionOutbox(ctx, in.After, in.Limit, in.Lane, in.Lanes)
	if err != nil {
		return ChargeFirstAttemptsOutput{}, err
	}
	out := ChargeFirstAttemptsOutput{Seen: len(page), Last: in.After}
	if len(page) == 0 {
		return out, nil
	}
	out.Last = page[len(page)-1].ID
	defer heartbeat(ctx, 5*time.Second)()
	results := make([]firstResult, len(page))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(a.chargeConcurrency())
	for i, inv := range page {
		if !inv.Claimed {
			continue // firstHandOff
		}
		g.Go(func() (err error) {
			results[i], err = a.chargeFirst(gctx, inv)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return out, err
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return a.settleFirstAttempts(ctx, page, results, out)
}

func (a *Activities) chargeConcurrency() int {
	if a.ChargeConcurrency > 0 {
		return a.ChargeConcurrency
	}
	return defaultChargeConcurrency
}

// chargeFirst makes one invoice's first attempt, trying again a few times
// while the provider does not answer, and records the outcome for the
// digest. Only a database failure is an error.
func (a *Activities) chargeFirst(ctx context.Context, inv postgres.OutboxInvoice) (firstResult, error) {
	var (
		res ChargeInvoiceOutput
		err error
	)
	for try := 0; ; try++ {
		res, err = a.ChargeInvoice(ctx, ChargeInvoiceInput{Number: inv.Number, Attempt: 1, Authenticate: true})
		if err == nil || !unanswered(err) || try == len(firstAttemptBackoff) || sleepCtx(ctx, firstAttemptBackoff[try]) != nil {
			break
		}
	}
	switch {
	case err == nil && res.Paid:
		return firstResult{kind: firstPaid, out: res}, a.DB.RecordBillingEvent(ctx, inv.Number, licensing.BillingPaid, res.Reactivated, "", nil)
	case err == nil:
		state := licensing.BillingDeclinedSoft
		if res.Hard {
			state = licensing.BillingDeclinedHard
		}
		return firstResult{kind: firstDeclined, out: res}, a.DB.RecordBillingEvent(ctx, inv.Number, state, false, "", nil)
	case final(err):
		if activity.IsActivity(ctx) {
			activity.GetLogger(ctx).Warn("first attempt refused; its collection takes over", "invoice", inv.Number, "err", err)
		}
		return firstResult{kind: firstHandOff}, nil
	}
	// No answer (the provider, our pacing), or the database or something
	// else failed for now: the invoice stays in the outbox, to be tried
	// again. Never handed off for it: its collection would see attempt 1
	// pending and wait a day for the next.
	if activity.IsActivity(ctx) && ctx.Err() == nil && !unanswered(err) {
		activity.GetLogger(ctx).Warn("first attempt failed; tried again later", "invoice", inv.Number, "err", err)
	}
	return firstResult{kind: firstDeferred}, nil
}

// final reports whether err is a refusal no retry cures (a domain error:
// the invoice is gone, nobody can reconcile it): the invoice's own
// collection takes it over and shows it.
func final(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.NonRetryable()
}

// settleFirstAttempts starts the collections the page needs and takes its
// settled invoices out of the outbox.
func (a *Activities) settleFirstAttempts(ctx context.Context, page []postgres.OutboxInvoice, results []firstResult, out ChargeFirstAttemptsOutput) (ChargeFirstAttemptsOutput, error) {
	var (
		declined []Declined
		handOff  []postgres.InvoiceRef
		settled  []string
	)
	for i, inv := range page {
		ref := postgres.InvoiceRef{Number: inv.Number, SEN: inv.SEN}
		switch r := results[i]; r.kind {
		case firstPaid:
			out.Paid = append(out.Paid, PaidInvoice{Number: inv.Number, Reactivated: r.out.Reactivated, WasStatus: r.out.WasStatus})
		case firstDeclined:
			declined = append(declined, Declined{Invoice: ref, First: r.out})
			if r.out.Hard {
				out.Hard++
			}
		case firstHandOff:
			handOff = append(handOff, ref)
		case firstDeferred:
			out.Deferred++
			continue
		}
		settled = append(settled, inv.Number)
	}
	if len(declined) > 0 {
		d, ok := a.Collections.(DunningStarter)
		if !ok {
			return out, errors.New("activities: no DunningStarter to start the collections of declined invoices")
		}
		if err := d.StartDunning(ctx, declined); err != nil {
			return out, err
		}
	}
	if len(handOff) > 0 {
		if err := a.Collections.StartCollections(ctx, handOff); err != nil {
			return out, err
		}
	}
	out.Declined, out.HandedOff = len(declined), len(handOff)
	return out, a.DB.CollectionsStarted(ctx, settled)
}

// unanswered reports whether a charge got no answer to act on: the
// provider was down, slow or rate-limited, or our own pacing had no slot.
// Such an attempt is sent again with the same key; it is never a decline.
func unanswered(err error) bool {
	return payments.Retryable(err) || errors.Is(err, payments.ErrProcessing) || pacing.IsBusy(err) ||
		errors.Is(err, context.DeadlineExceeded)
}

// PaidNoticesInput lists invoices whose first attempt paid.
type PaidNoticesInput struct {
	Invoices []PaidInvoice
}

// PaidNotices mails the billing contacts of each invoice a first attempt
// paid, as the invoice's own collection would (the same mail keys, so a
// mail is never sent twice), heartbeating as it goes.
func (a *Activities) PaidNotices(ctx context.Context, in PaidNoticesInput) error {
	defer heartbeat(ctx, 5*time.Second)()
	for _, p := range in.Invoices {
		if err := a.BillingNotice(ctx, BillingNoticeInput{Kind: NoticePaid, Number: p.Number,
			Key: operation.InvoiceID(p.Number) + "/paid", Reactivated: p.Reactivated, WasStatus: p.WasStatus}); err != nil {
			return fmt.Errorf("payment mail for %s: %w", p.Number, err)
		}
	}
	return nil
}

// heartbeat heartbeats every period until the returned stop is called;
// outside an activity (tests) it does nothing.
func heartbeat(ctx context.Context, every time.Duration) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	activity.RecordHeartbeat(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// recordBillingEvent puts a billing notice in its run's digest: where the
// invoice's collection stands, and a line for the thread when a person
// must act (a hard decline, a suspension now, a large invoice's failure).
func (a *Activities) recordBillingEvent(ctx context.Context, inv postgres.Invoice, in BillingNoticeInput, suspendedNow, suspended bool) error {
	state := licensing.BillingPaid
	switch {
	case in.Kind == NoticePaid:
	case suspended:
		state = licensing.BillingSuspended
	case in.Hard:
		state = licensing.BillingDeclinedHard
	default:
		state = licensing.BillingDeclinedSoft
	}
	var exc *licensing.BillingException
	if kind, ok := licensing.ExceptionFor(in.Kind == NoticePaid, in.Hard, suspendedNow, inv.AmountCents, a.LargeInvoiceCents); ok {
		exc = &licensing.BillingException{Kind: kind, SEN: inv.SEN, Invoice: inv.Number, AmountCents: inv.AmountCents,
			Currency: inv.Currency, Reason: in.Reason, NextRetry: in.NextRetry}
	}
	return a.DB.RecordBillingEvent(ctx, inv.Number, state, in.Reactivated, in.Key, exc)
}

package activities

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"

	"licensedesk/payments"
	"licensedesk/postgres"
)

// reconcileAfter is how old a pending attempt may be before the provider
// might have forgotten its idempotency key: the window less a margin for
// the time the retried call itself takes (an hour of Stripe's 24).
func reconcileAfter(window time.Duration) time.Duration {
	return window - min(time.Hour, window/10)
}

// reconcile settles an attempt whose first sending may be older than the
// provider's memory of its key: a charge the provider made for the
// invoice (its answer lost) is recorded instead of made again. done is
// false when the provider has no charge for this attempt and none that
// paid the invoice: the attempt may be sent again, under the same key.
func (a *Activities) reconcile(ctx context.Context, inv postgres.Invoice, attempt int, key, customer string, sentAt time.Time) (ChargeInvoiceOutput, bool, error) {
	finder, ok := a.Payments.(payments.ChargeFinder)
	if !ok {
		return ChargeInvoiceOutput{}, false, temporal.NewNonRetryableApplicationError(
			"attempt "+key+" was sent longer ago than the provider keeps idempotency keys, and the provider cannot list charges: reconcile it by hand",
			"CannotReconcile", nil)
	}
	found, err := finder.FindCharges(ctx, payments.FindChargesInput{CustomerID: customer, Invoice: inv.Number, Since: sentAt.Add(-time.Hour)})
	if err != nil {
		return ChargeInvoiceOutput{}, false, err // provider down: retried
	}
	var mine *payments.FoundCharge
	for i, f := range found {
		switch {
		case f.Status == payments.ChargeSucceeded:
			// Paid, by this attempt or another: never charge again.
			was, err := a.DB.FinishAttempt(ctx, key, postgres.AttemptResult{Status: "succeeded", ProviderRef: f.ID})
			if err != nil {
				return ChargeInvoiceOutput{}, false, err
			}
			return ChargeInvoiceOutput{Paid: true, Reactivated: was != "", WasStatus: was}, true, nil
		case f.Status == "processing":
			return ChargeInvoiceOutput{}, false, payments.ErrProcessing
		case f.Attempt == strconv.Itoa(attempt):
			mine = &found[i]
		}
	}
	if mine != nil && mine.DeclineCode != "" {
		out, err := a.finishDecline(ctx, inv, key, mine.DeclineCode, mine.Message, payments.IsHardDecline(mine.DeclineCode))
		return out, true, err
	}
	return ChargeInvoiceOutput{}, false, nil
}

// settleEarlierAttempts keeps one attempt in flight per invoice: attempt
// n waits (a retryable error) while an earlier one is being charged right
// now, since its answer may pay the invoice. An earlier one left without an
// answer by a worker that died is settled at the provider first: if it
// charged, the invoice is paid (done) and n is not sent.
func (a *Activities) settleEarlierAttempts(ctx context.Context, inv postgres.Invoice, attempt int) (ChargeInvoiceOutput, bool, error) {
	pending, err := a.DB.EarlierPendingAttempts(ctx, inv.Number, attempt)
	if err != nil || len(pending) == 0 {
		return ChargeInvoiceOutput{}, false, err
	}
	for _, p := range pending {
		if p.InFlight {
			return ChargeInvoiceOutput{}, false, fmt.Errorf("attempt %s is still waiting for the provider's answer", p.Key)
		}
	}
	customer := inv.Customer
	if customer == "" {
		return ChargeInvoiceOutput{}, false, nil // never reached the provider: it has no customer
	}
	for _, p := range pending {
		out, done, err := a.reconcile(ctx, inv, attemptOf(p.Key), p.Key, customer, p.CreatedAt)
		if err != nil || (done && out.Paid) {
			return out, done, err
		}
	}
	return ChargeInvoiceOutput{}, false, nil
}

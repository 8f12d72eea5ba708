package postgres_test

import (
	"context"
	"testing"
	"time"

	"licensedesk/internal/clock/clocktest"
	"licensedesk/licensing"
	"licensedesk/postgres"
)

// TestOverdue_TheOutstandingInvoiceWithItsLastFailedCharge: the demo's
// past-due licence reads back with the amount, number, failed-at and
// decline; a paid-up licence owes nothing; a new failure is the one named.
func TestOverdue_TheOutstandingInvoiceWithItsLastFailedCharge(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	o, err := db.Overdue(ctx, "SEN-1000003")
	if err != nil || o == nil {
		t.Fatalf("SEN-1000003: %v, %v", o, err)
	}
	due := clocktest.Now(t).Truncate(24*time.Hour).AddDate(0, 0, -3) // the demo's invoice fell due three days before it was loaded
	if o.SEN != "SEN-1000003" || o.Product != "Jira Service Management" || o.Status != licensing.PastDue || o.Invoice != "SEN-1000003-"+due.Format("2006-01-02") ||
		o.Amount() != "USD 10.00" || !o.DueDate.Equal(due) || o.DeclineCode != "generic_decline" || o.Reason != "Your card was declined." ||
		o.FailedAt.IsZero() || o.FailedAt.Before(due) {
		t.Fatalf("overdue %+v", o)
	}
	if none, err := db.Overdue(ctx, "SEN-1000001"); err != nil || none != nil {
		t.Fatalf("SEN-1000001 owes nothing: %+v, %v", none, err)
	}
	if none, err := db.Overdue(ctx, "SEN-9999999"); err != nil || none != nil {
		t.Fatalf("unknown SEN: %+v, %v", none, err)
	}

	// A second attempt fails differently: it is the one the banner names.
	if _, _, err := db.BeginAttempt(ctx, o.Invoice, 2, o.Invoice+"/2", "pm_card_chargeDeclined"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FinishAttempt(ctx, o.Invoice+"/2", postgres.AttemptResult{Status: "failed", DeclineCode: "insufficient_funds", Error: "Your card has insufficient funds."}); err != nil {
		t.Fatal(err)
	}
	o2, err := db.Overdue(ctx, "SEN-1000003")
	if err != nil || o2 == nil || o2.DeclineWords() != "insufficient funds" || !o2.FailedAt.After(o.FailedAt) {
		t.Fatalf("after a second failure: %+v, %v", o2, err)
	}
	// Paid: nothing overdue any more.
	if _, _, err := db.BeginAttempt(ctx, o.Invoice, 3, o.Invoice+"/3", "pm_card_visa"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FinishAttempt(ctx, o.Invoice+"/3", postgres.AttemptResult{Status: "succeeded", ProviderRef: "pi_1"}); err != nil {
		t.Fatal(err)
	}
	if none, err := db.Overdue(ctx, "SEN-1000003"); err != nil || none != nil {
		t.Fatalf("after paying: %+v, %v", none, err)
	}
}

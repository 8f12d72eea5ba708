package postgres_test

import (
	"context"
	"testing"
	"time"

	"licensedesk/internal/clock/clocktest"
	"licensedesk/licensing"
)

// The daily run queues each reminder once, on its day: 30 and 7 days
// before the card expires, and a week before a charge due after it
// expired; never for a cancelled licence, and a new card stops them.
func TestQueueCardReminders_EachStageOnceOnItsDay(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	now := clocktest.Now(t)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	// SEN-1000001's card stops working 30 days from today at the earliest
	// (a card expires on the first of a month): the first of the month
	// at least 30 days out, and billing on the 15th after it.
	expires := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 2, 0)
	last := expires.AddDate(0, 0, -1)
	nextBill := expires.AddDate(0, 0, 14)
	if _, err := db.Pool().Exec(ctx, `UPDATE payment_methods p SET exp_month = $2, exp_year = $3 FROM licenses l
		WHERE l.id = p.license_id AND l.sen = $1`, "SEN-1000001", int(last.Month()), last.Year()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE licenses SET next_billing_date = $2 WHERE sen = $1`, "SEN-1000001", nextBill); err != nil {
		t.Fatal(err)
	}
	// SEN-1000002 (annual) has the same card but is cancelled.
	if _, err := db.Pool().Exec(ctx, `UPDATE payment_methods p SET exp_month = $2, exp_year = $3 FROM licenses l
		WHERE l.id = p.license_id AND l.sen = $1`, "SEN-1000002", int(last.Month()), last.Year()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE licenses SET status = 'cancelled' WHERE sen = 'SEN-1000002'`); err != nil {
		t.Fatal(err)
	}
	queue := func(day time.Time) []string {
		t.Helper()
		if _, err := db.QueueCardReminders(ctx, day); err != nil {
			t.Fatal(err)
		}
		pending, err := db.PendingCardReminders(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range pending {
			got = append(got, string(r.SEN)+" "+r.Stage)
			if err := db.CardReminderDone(ctx, r.PaymentMethodID, r.Stage, ""); err != nil {
				t.Fatal(err)
			}
		}
		return got
	}
	want := func(day time.Time, stages ...string) {
		t.Helper()
		got := queue(day)
		if len(got) != len(stages) {
			t.Fatalf("on %s: %v; want %v", day.Format(time.DateOnly), got, stages)
		}
		for i := range got {
			if got[i] != stages[i] {
				t.Fatalf("on %s: %v; want %v", day.Format(time.DateOnly), got, stages)
			}
		}
	}
	want(expires.AddDate(0, 0, -31)) // not yet
	want(expires.AddDate(0, 0, -30), "SEN-1000001 30d")
	want(expires.AddDate(0, 0, -30)) // the run repeated: nothing again
	want(expires.AddDate(0, 0, -20)) // a later day in the same window: nothing again
	want(expires.AddDate(0, 0, -7), "SEN-1000001 7d")
	want(expires.AddDate(0, 0, -1))
	want(expires) // expired, but the charge is two weeks away
	want(nextBill.AddDate(0, 0, -7), "SEN-1000001 due:"+nextBill.Format(time.DateOnly))
	want(nextBill.AddDate(0, 0, -6))

	// The charge a month later is not the first after the expiry: the
	// failed-payment mails take over.
	if _, err := db.Pool().Exec(ctx, `UPDATE licenses SET next_billing_date = $2 WHERE sen = $1`, "SEN-1000001", nextBill.AddDate(0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	want(nextBill.AddDate(0, 1, -7))

	// A reminder queued, then the card replaced before it went out: it is
	// still pending, but no longer the licence's card.
	if _, err := db.Pool().Exec(ctx, `UPDATE payment_methods p SET exp_month = $2, exp_year = $3 FROM licenses l
		WHERE l.id = p.license_id AND l.sen = $1`, "SEN-1000003", int(last.Month()), last.Year()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.QueueCardReminders(ctx, expires.AddDate(0, 0, -30)); err != nil {
		t.Fatal(err)
	}
	if err := db.SetDefaultCard(ctx, "SEN-1000003", "pm_new", "visa", "1111", 12, today.Year()+5); err != nil {
		t.Fatal(err)
	}
	pending, err := db.PendingCardReminders(ctx, 100)
	if err != nil || len(pending) != 1 || pending[0].Default || pending[0].SEN != "SEN-1000003" {
		t.Fatalf("pending after a new card = %+v, %v", pending, err)
	}
	// And the new card is not reminded of.
	if n, _ := db.QueueCardReminders(ctx, expires.AddDate(0, 0, -29)); n != 0 {
		t.Errorf("%d reminders queued for the new card", n)
	}

	// The account page's banners: alice's licence's card expires soon.
	alice, err := db.AccountByEmail(ctx, "alice@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	sens, err := db.AccountExpiringCards(ctx, alice.ID, expires, 20) // 30 days before: until = now + 30 days
	if err != nil || len(sens) != 1 || sens[0] != licensing.SEN("SEN-1000001") {
		t.Errorf("expiring for alice 30 days before = %v, %v", sens, err)
	}
	if sens, _ := db.AccountExpiringCards(ctx, alice.ID, expires.AddDate(0, 0, -2), 20); len(sens) != 0 {
		t.Errorf("expiring for alice 32 days before = %v", sens)
	}
}

// An annual licence is reminded before its first charge after the card
// expired, even months after the expiry; a charge a year later is not.
func TestQueueCardReminders_AnnualChargeAfterTheExpiry(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	now := clocktest.Now(t)
	expires := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 2, 0)
	last := expires.AddDate(0, 0, -1)
	renews := expires.AddDate(0, 5, 0) // the renewal, five months after the card stopped
	if _, err := db.Pool().Exec(ctx, `UPDATE payment_methods p SET exp_month = $2, exp_year = $3 FROM licenses l
		WHERE l.id = p.license_id AND l.sen = $1`, "SEN-1000002", int(last.Month()), last.Year()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE licenses SET next_billing_date = $2 WHERE sen = $1`, "SEN-1000002", renews); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		day  time.Time
		want int
	}{{renews.AddDate(0, 0, -8), 0}, {renews.AddDate(0, 0, -7), 1}, {renews.AddDate(0, 0, -6), 0}} {
		if n, err := db.QueueCardReminders(ctx, tt.day); err != nil || n != tt.want {
			t.Fatalf("on %s: %d queued, %v; want %d", tt.day.Format(time.DateOnly), n, err, tt.want)
		}
	}
	pending, _ := db.PendingCardReminders(ctx, 10)
	if len(pending) != 1 || pending[0].SEN != "SEN-1000002" || pending[0].Stage != "due:"+renews.Format(time.DateOnly) {
		t.Fatalf("pending %+v", pending)
	}
	// A year on, the card long expired: the failed-payment mails' business.
	if _, err := db.Pool().Exec(ctx, `UPDATE licenses SET next_billing_date = $2 WHERE sen = $1`, "SEN-1000002", renews.AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.QueueCardReminders(ctx, renews.AddDate(1, 0, -7)); n != 0 {
		t.Errorf("%d queued a year later", n)
	}
}

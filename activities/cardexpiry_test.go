package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"licensedesk/activities"
	"licensedesk/internal/clock/clocktest"
	"licensedesk/licensing"
	"licensedesk/operation"
)

// setCardExpiry makes a licence's card stop working on the first of the
// month at least days from now, and returns that day.
func (f *fixture) setCardExpiry(t *testing.T, sen string, now time.Time) time.Time {
	t.Helper()
	expires := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 2, 0)
	last := expires.AddDate(0, 0, -1)
	if _, err := f.db.Pool().Exec(context.Background(), `UPDATE payment_methods p SET exp_month = $2, exp_year = $3 FROM licenses l
		WHERE l.id = p.license_id AND l.sen = $1 AND p.is_default`, sen, int(last.Month()), last.Year()); err != nil {
		t.Fatal(err)
	}
	return expires
}

// Each person allowed to update the card gets their own link, once, even
// when the run repeats; a reminder for a licence cancelled, or a card
// replaced, before it went out mails nobody.
func TestSendCardReminders_EachUpdaterOnceAndNotForACancelledLicence(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	now := clocktest.Now(t)
	expires := f.setCardExpiry(t, "SEN-1000001", now)
	f.setCardExpiry(t, "SEN-1000002", now)
	f.setCardExpiry(t, "SEN-1000003", now)
	day := expires.AddDate(0, 0, -30)
	q, err := f.acts.QueueCardReminders(ctx, activities.QueueCardRemindersInput{Today: day})
	if err != nil || q.Queued != 3 {
		t.Fatalf("queue = %+v, %v; want the three demo cloud licences", q, err)
	}
	// Meanwhile SEN-1000002 is cancelled and SEN-1000003's card replaced.
	if _, err := f.db.Pool().Exec(ctx, `UPDATE licenses SET status = 'cancelled' WHERE sen = 'SEN-1000002'`); err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetDefaultCard(ctx, "SEN-1000003", "pm_card_mastercard", "mastercard", "4444", 12, now.Year()+4); err != nil {
		t.Fatal(err)
	}
	out, err := f.acts.SendCardReminders(ctx, activities.SendCardRemindersInput{Limit: 10, Now: day})
	if err != nil || out.Done != 3 || out.Skipped != 2 || out.Mailed != 3 {
		t.Fatalf("send = %+v, %v; want 3 mails for SEN-1000001 and the other two dropped", out, err)
	}
	// The run again (repeated, or retried after a crash): nothing more.
	if q, _ := f.acts.QueueCardReminders(ctx, activities.QueueCardRemindersInput{Today: day}); q.Queued != 0 {
		t.Errorf("queued %d again", q.Queued)
	}
	if out, _ := f.acts.SendCardReminders(ctx, activities.SendCardRemindersInput{Limit: 10, Now: day}); out.Done != 0 || out.Mailed != 0 {
		t.Errorf("second send = %+v", out)
	}
	mails, err := f.db.KeptMail(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, m := range mails {
		if !strings.Contains(m.Subject, "The card for") || !strings.Contains(m.Subject, "works until") {
			continue
		}
		to = append(to, m.To)
		if !strings.Contains(m.Subject, "SEN-1000001") || len(m.Links) != 1 || !strings.Contains(m.Text, "Update card") {
			t.Errorf("mail to %s: %s %v", m.To, m.Subject, m.Links)
		}
	}
	if strings.Join(to, ",") != "carol@acme.test,bob@acme.test,alice@acme.test" {
		t.Errorf("mailed %v; want SEN-1000001's contacts and site admin, once each", to)
	}
	// Each link is the person's own, and acts for their card update.
	for _, email := range []string{"alice@acme.test", "bob@acme.test", "carol@acme.test"} {
		if n := f.count(t, `SELECT count(*) FROM link_tokens t JOIN accounts a ON a.id = t.account_id WHERE a.email = $1 AND t.workflow_id = $2 AND t.purpose = 'card_update'`,
			email, operation.CardExpiryID("SEN-1000001", licensing.Email(email))); n != 1 {
			t.Errorf("%d links of %s", n, email)
		}
	}
}

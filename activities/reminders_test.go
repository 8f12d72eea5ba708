package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"licensedesk/activities"
	"licensedesk/internal/clock/clocktest"
	"licensedesk/licensing"
)

type sentMail struct{ to, subject, text string }

func (f *fixture) mails(t *testing.T, keyLike string) []sentMail {
	t.Helper()
	rows, err := f.db.Pool().Query(context.Background(), `SELECT to_addr, subject, text_body FROM sent_mail WHERE message_key LIKE $1 ORDER BY to_addr`, keyLike)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []sentMail
	for rows.Next() {
		var m sentMail
		if err := rows.Scan(&m.to, &m.subject, &m.text); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func (f *fixture) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := f.db.Pool().Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// TestSendReminders_RenewalSaysWhenHowMuchAndWhichCard (review #28): 30
// days before an annual licence renews, its billing contact and its site
// admin (who updates an annual licence's card) are told the date, the
// amount with its tax and the card; the site admin gets the way to change
// it, the billing contact whom to ask. A second sweep sends nothing again.
func TestSendReminders_RenewalSaysWhenHowMuchAndWhichCard(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	today := clocktest.Now(t)
	renews := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 30)
	f.exec(t, `UPDATE licenses SET next_billing_date = $1 WHERE sen = 'SEN-1000002'`, renews)
	f.exec(t, `UPDATE payment_methods SET exp_month = $1, exp_year = $2 WHERE license_id = (SELECT id FROM licenses WHERE sen = 'SEN-1000002')`,
		int(renews.Month()), renews.Year()-1) // expires before the renewal
	f.acts.Taxes, _ = licensing.ParseTaxRules("US:Sales tax:10")
	for range 2 {
		if _, err := f.acts.QueueRenewals(ctx, activitiesQueue(today)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.acts.SendReminders(ctx, activitiesSend(today)); err != nil {
			t.Fatal(err)
		}
	}
	got := f.mails(t, "renewal/SEN-1000002/%")
	if len(got) != 2 || got[0].to != "dave@globex.test" || got[1].to != "frank@globex.test" {
		t.Fatalf("renewal mails %+v; want one each to dave and frank", got)
	}
	day := renews.Format("Monday 2 January 2006")
	for _, m := range got {
		for _, want := range []string{"SEN-1000002 renews on " + day + ": USD 110.00"} {
			if m.subject != want {
				t.Errorf("%s: subject %q; want %q", m.to, m.subject, want)
			}
		}
		for _, want := range []string{"annual subscription", "USD 110.00", "Sales tax 10 % included", "Visa ending 4242", "expires before then"} {
			if !strings.Contains(m.text, want) {
				t.Errorf("%s: no %q in\n%s", m.to, want, m.text)
			}
		}
	}
	if !strings.Contains(got[0].text, "ask a site admin of the licence (frank@globex.test)") || !strings.Contains(got[1].text, "press Update card on your account page: http://127.0.0.1:1/account") {
		t.Errorf("who may change the card:\n%s\n%s", got[0].text, got[1].text)
	}
}

// TestSendReminders_NothingForALicenceCancelledMeanwhile (bad input): a
// renewal reminder queued for a licence cancelled before it went out, or
// re-dated, is stamped without a mail.
func TestSendReminders_NothingForALicenceCancelledMeanwhile(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	today := clocktest.Now(t)
	renews := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 10)
	f.exec(t, `UPDATE licenses SET next_billing_date = $1 WHERE sen = 'SEN-1000002'`, renews)
	if _, err := f.acts.QueueRenewals(ctx, activitiesQueue(today)); err != nil {
		t.Fatal(err)
	}
	f.exec(t, `UPDATE licenses SET status = 'cancelled' WHERE sen = 'SEN-1000002'`)
	out, err := f.acts.SendReminders(ctx, activitiesSend(today))
	if err != nil || out.Done != 1 || out.Mailed != 0 {
		t.Fatalf("%+v, %v; want the reminder done without a mail", out, err)
	}
	if got := f.mails(t, "renewal/%"); len(got) != 0 {
		t.Errorf("mailed %+v", got)
	}
	if n := f.count(t, `SELECT count(*) FROM billing_reminders WHERE sent_at IS NULL`); n != 0 {
		t.Errorf("%d reminders left in the outbox", n)
	}
}

// TestSendReminders_CardHandoverOnlyWhileTheOldCardPays (review #3): 14
// days after a move, the new owner hears that the former owner's card
// still pays — unless a new card was saved meanwhile.
func TestSendReminders_CardHandoverOnlyWhileTheOldCardPays(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	today := clocktest.Now(t)
	moved := today.AddDate(0, 0, -14)
	// SEN-1000001 moved from alice to bob; its card (pm_card_visa) is alice's.
	if err := f.db.QueueCardHandover(ctx, "SEN-1000001", moved, today, "alice@acme.test", "bob@acme.test", "pm_card_visa"); err != nil {
		t.Fatal(err)
	}
	// SEN-1000003's was replaced after the move.
	if err := f.db.QueueCardHandover(ctx, "SEN-1000003", moved, today, "old@initech.test", "gina@initech.test", "pm_card_chargeDeclined"); err != nil {
		t.Fatal(err)
	}
	out, err := f.acts.SendReminders(ctx, activitiesSend(today))
	if err != nil || out.Done != 2 || out.Mailed != 1 {
		t.Fatalf("%+v, %v; want two done, one mailed", out, err)
	}
	got := f.mails(t, "card-handover/%")
	if len(got) != 1 || got[0].to != "bob@acme.test" || got[0].subject != "SEN-1000001 is still paid by alice@acme.test's card" ||
		!strings.Contains(got[0].text, "Visa ending 4242") || !strings.Contains(got[0].text, "Update card") {
		t.Fatalf("mails %+v", got)
	}
}

// TestNotify_MoveTellsTheOldOwnerTheirCardStillPays (review #3): after a
// move, the former owner learns in their own mail that their card still
// pays and until when; the new owner whose card it is and to add theirs,
// and a reminder is queued for 14 days on.
func TestNotify_MoveTellsTheOldOwnerTheirCardStillPays(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.acts.Clock = clocktest.Fixed(t)
	// SEN-1000001 moved from alice to bob: bob primary, alice gone; the
	// card on file is still alice's.
	tx, err := f.db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE license_contacts c SET is_primary = (a.email = 'bob@acme.test') FROM accounts a, licenses l
		 WHERE a.id = c.account_id AND l.id = c.license_id AND l.sen = 'SEN-1000001'`,
		`INSERT INTO license_contacts (license_id, account_id, role, is_primary)
		 SELECT l.id, a.id, 'billing', true FROM licenses l, accounts a WHERE l.sen = 'SEN-1000001' AND a.email = 'bob@acme.test'`,
		`DELETE FROM license_contacts c USING accounts a WHERE a.id = c.account_id AND a.email = 'alice@acme.test'`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, to := range []licensing.Email{"alice@acme.test", "bob@acme.test"} {
		if err := f.acts.Notify(ctx, activitiesMoved(to)); err != nil {
			t.Fatal(err)
		}
	}
	got := f.mails(t, "move-test/%")
	if len(got) != 2 {
		t.Fatalf("mails %+v", got)
	}
	alice, bob := got[0], got[1]
	for _, want := range []string{"Your card still pays for this licence.", "Visa ending 4242, which you saved", "charged next on", "ask bob@acme.test to update the card"} {
		if !strings.Contains(alice.text, want) {
			t.Errorf("alice's mail: no %q in\n%s", want, alice.text)
		}
	}
	for _, want := range []string{"Visa ending 4242, added by alice@acme.test, stays on the licence", "Please add your own card", "remind you in 14 days"} {
		if !strings.Contains(bob.text, want) {
			t.Errorf("bob's mail: no %q in\n%s", want, bob.text)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM billing_reminders WHERE kind = 'card_handover' AND detail->>'new' = 'bob@acme.test' AND detail->>'old' = 'alice@acme.test'`); n != 1 {
		t.Errorf("%d handover reminders queued; want 1", n)
	}
}

func activitiesQueue(today time.Time) activities.QueueRenewalsInput {
	return activities.QueueRenewalsInput{Today: today, Limit: 500}
}

func activitiesSend(today time.Time) activities.SendRemindersInput {
	return activities.SendRemindersInput{Today: today, Limit: 50}
}

func activitiesMoved(to licensing.Email) activities.NotifyInput {
	return activities.NotifyInput{Key: "move-test/" + string(to), Kind: activities.NotifyMoveCompleted, To: to, SEN: "SEN-1000001",
		NewEmail: "bob@acme.test", OldEmail: "alice@acme.test"}
}

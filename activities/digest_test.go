package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"licensedesk/activities"
	"licensedesk/internal/slacktest"
	"licensedesk/pacing"
	"licensedesk/payments/sandbox"
	"licensedesk/slackout"
)

// slackFor points the activities at a fake Slack that keeps Slack's
// limits, through the paced poster production uses.
func (d *day) slackFor(t *testing.T) *slacktest.Server {
	srv := slacktest.NewServer(t)
	api := slackout.NewWebAPI("xoxb-test", srv.URL(), srv.Client())
	d.acts.Slack = slackout.Paced(api, pacing.NewMemoryStore(), slackout.DocumentedLimits)
	return srv
}

// billingDay makes a run with every outcome in two currencies: paid,
// soft-declined, hard-declined, a large invoice declined, and one
// suspended, with the notices their collections send.
func (d *day) billingDay(t *testing.T) (run int64) {
	t.Helper()
	ctx := context.Background()
	usd := d.due(t, 0, "USD", "pm_card_visa", "pm_card_visa", "pm_card_chargeDeclined", "pm_card_chargeDeclinedStolenCard", "pm_card_chargeDeclinedInsufficientFunds")
	eur := d.due(t, 10, "EUR", "pm_card_visa", "pm_card_chargeDeclined")
	if _, err := d.db.Pool().Exec(ctx, `UPDATE invoices SET amount_cents = 250000 WHERE number = $1`, usd[4]); err != nil {
		t.Fatal(err)
	}
	run = d.open(t, "sweep@digest")
	if _, err := d.acts.ChargeFirstAttempts(ctx, activities.ChargeFirstAttemptsInput{Limit: 100}); err != nil {
		t.Fatal(err)
	}
	// What the collections of the declined invoices notify.
	for _, n := range []activities.BillingNoticeInput{
		{Kind: activities.NoticeFailed, Number: usd[2], Key: "invoice/" + usd[2] + "/failed/1", Reason: "Your card was declined.", NextRetry: time.Now().Add(24 * time.Hour)},
		{Kind: activities.NoticeFailed, Number: usd[3], Key: "invoice/" + usd[3] + "/failed/1", Reason: "Your card was declined.", Hard: true},
		{Kind: activities.NoticeFailed, Number: usd[4], Key: "invoice/" + usd[4] + "/failed/1", Reason: "Your card has insufficient funds.", NextRetry: time.Now().Add(24 * time.Hour)},
		{Kind: activities.NoticeSuspended, Number: eur[1], Key: "invoice/" + eur[1] + "/suspended"},
	} {
		if err := d.acts.BillingNotice(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.acts.FinishBillingRun(ctx, activities.FinishBillingRunInput{Run: run}); err != nil {
		t.Fatal(err)
	}
	return run
}

// A run's digest is one message, updated in place as its collections
// finish, with the lines that need a person in its thread, many to a
// reply, each saying what to do; a currency mix is totalled per currency;
// and nothing per invoice reaches the channel.
func TestFlushDigests_OneMessageInPlaceWithBatchedReplies(t *testing.T) {
	ctx := context.Background()
	d := newDay(t, sandbox.Config{})
	srv := d.slackFor(t)
	run := d.billingDay(t)
	if got := srv.Messages(); len(got) != 0 {
		t.Fatalf("%d messages before the flush: nothing is posted per invoice", len(got))
	}
	out, err := d.acts.FlushDigests(ctx, activities.FlushDigestsInput{Run: run})
	if err != nil || out.Posted != 1 || out.Replies != 1 {
		t.Fatalf("flush %+v, %v; want the digest and one reply", out, err)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 || msgs[1].ThreadTS != msgs[0].TS {
		t.Fatalf("messages %+v", msgs)
	}
	digest, reply := msgs[0], msgs[1]
	for _, want := range []string{"7 invoiced, 3 paid, 3 declined (2 retrying, 1 waiting for a new card), 1 suspended"} {
		if !strings.Contains(digest.Text, want) {
			t.Errorf("digest %q lacks %q", digest.Text, want)
		}
	}
	for _, want := range []string{`*EUR* · 20.00 invoiced (2 invoices) · 10.00 paid · 10.00 outstanding`, `*USD* · 2,540.00 invoiced (5 invoices) · 20.00 paid · 2,520.00 outstanding`} {
		if !strings.Contains(string(digest.Blocks), want) {
			t.Errorf("digest blocks lack %q:\n%s", want, digest.Blocks)
		}
	}
	lines := strings.Split(reply.Text, "\n")
	if len(lines) != 3 || !strings.Contains(reply.Text, "/license card SEN-5000003") || !strings.Contains(reply.Text, "SEN-5000011* suspended") ||
		!strings.Contains(reply.Text, "SEN-5000004* USD 2500.00 (a large invoice)") || strings.Contains(reply.Text, "SEN-5000002") {
		t.Errorf("thread reply:\n%s", reply.Text)
	}
	// Later, a retry pays the soft decline: the digest changes in place.
	if err := d.acts.BillingNotice(ctx, activities.BillingNoticeInput{Kind: activities.NoticePaid, Number: "SEN-5000002-due", Key: "invoice/SEN-5000002-due/paid"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.acts.FlushDigests(ctx, activities.FlushDigestsInput{}); err != nil {
		t.Fatal(err)
	}
	msgs = srv.Messages()
	if len(msgs) != 2 || msgs[0].Updates != 1 || !strings.Contains(msgs[0].Text, "4 paid") {
		t.Errorf("after a retry paid: %d messages, digest updated %d times: %q", len(msgs), msgs[0].Updates, msgs[0].Text)
	}
	if out, _ := d.acts.FlushDigests(ctx, activities.FlushDigestsInput{}); out != (activities.FlushDigestsOutput{}) {
		t.Errorf("a flush with nothing new sent %+v", out)
	}
	if n := srv.RateLimited("chat.postMessage") + srv.RateLimited("chat.update"); n != 0 {
		t.Errorf("%d calls answered 429", n)
	}
}

// Slack is down for the whole run: the charges and the run go on, nothing
// is posted, and the first flush after Slack is back posts the digest as
// it stands, with every line.
func TestFlushDigests_SlackDownForTheWholeRun(t *testing.T) {
	ctx := context.Background()
	d := newDay(t, sandbox.Config{})
	srv := d.slackFor(t)
	srv.SetDown(true)
	run := d.billingDay(t)
	if _, err := d.acts.FlushDigests(ctx, activities.FlushDigestsInput{Run: run}); err == nil {
		t.Fatal("a flush to a Slack that is down reported success")
	}
	if n := d.count(t, `SELECT count(*) FROM invoices WHERE status = 'paid' AND number LIKE 'SEN-5%'`); n != 3 {
		t.Errorf("%d paid while Slack was down; want 3", n)
	}
	srv.SetDown(false)
	out, err := d.acts.FlushDigests(ctx, activities.FlushDigestsInput{})
	if err != nil || out.Posted != 1 || out.Replies != 1 {
		t.Fatalf("after Slack came back: %+v, %v", out, err)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 || !strings.Contains(msgs[0].Text, "7 invoiced, 3 paid") || strings.Count(msgs[1].Text, "\n") != 2 {
		t.Errorf("messages after the outage: %+v", msgs)
	}
	st, err := d.db.BillingDigest(ctx, run)
	if err != nil || st.Unposted != 0 || st.Digest.Exceptions != 3 {
		t.Errorf("digest state %+v, %v", st, err)
	}
}

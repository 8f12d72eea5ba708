package links_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"licensedesk/licensing"
	"licensedesk/links"
	"licensedesk/payments/sandbox"
	"licensedesk/postgres"
	"licensedesk/postgres/postgrestest"
)

// TestCardLink_TokenStaysOutOfTheProvidersURLs follows an update-card
// link to the payment provider (the sandbox, on a real database): the card
// session it opens carries no token in its return URLs, which the provider
// keeps and shows.
func TestCardLink_TokenStaysOutOfTheProvidersURLs(t *testing.T) {
	ctx := context.Background()
	db, now := postgrestest.NewDemo(t)
	const base = "https://desk.example"
	sb, err := sandbox.New(sandbox.Config{Store: sandbox.NewPGStore(db.Pool()), BaseURL: base, WebhookSecret: "whsec_test"})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := db.CreateLink(ctx, postgres.NewLink{Purpose: licensing.PurposeCardUpdate, Email: "gina@initech.test",
		SEN: "SEN-1000003", WorkflowID: "card/SEN-1000003", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	svc := &links.Service{DB: db, Payments: sb, PublicBaseURL: base, Clock: now}
	res, err := svc.Act(ctx, token, links.Action{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(res.RedirectURL)
	if err != nil || !strings.HasPrefix(res.RedirectURL, base+"/sandbox/checkout/") {
		t.Fatalf("redirect to %q (%v); want the sandbox's card page", res.RedirectURL, err)
	}
	sess, err := sandbox.NewPGStore(db.Pool()).SandboxSession(ctx, path.Base(u.Path))
	if err != nil {
		t.Fatal(err)
	}
	if sess.CancelURL != base+links.CardCancelledPath || sess.SuccessURL != base+links.CardSavedPath {
		t.Errorf("return URLs %q and %q; want %s and %s", sess.CancelURL, sess.SuccessURL, links.CardCancelledPath, links.CardSavedPath)
	}
	for _, u := range []string{sess.CancelURL, sess.SuccessURL, sess.Reference} {
		if strings.Contains(u, token) {
			t.Errorf("the provider keeps the link's token in %q", u)
		}
	}
}

// TestCardLink_PastDuePageSaysWhatFailedAndByWhen (defect 1): the card
// page of a past-due licence opens with the banner: amount, licence, when
// and why the charge failed, and the date to update the card by.
func TestCardLink_PastDuePageSaysWhatFailedAndByWhen(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	token, _, err := f.db.CreateLink(ctx, postgres.NewLink{Purpose: licensing.PurposeCardUpdate, Email: "gina@initech.test", SEN: "SEN-1000003",
		WorkflowID: "card/SEN-1000003", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	o, _ := f.db.Overdue(ctx, "SEN-1000003")
	suspend := o.DueDate.Add(15 * 24 * time.Hour)
	r := f.get(token)
	want := "Payment of USD 10.00 for SEN-1000003 failed on " + licensing.ShortDate(o.FailedAt) + ": card declined. Update your card before " +
		licensing.ShortDate(suspend) + " to keep Jira Service Management running."
	if r.status != 200 || !strings.Contains(r.body, want) || !strings.Contains(r.body, `class="banner"`) {
		t.Fatalf("%d: want %q in\n%s", r.status, want, r.body)
	}
	if strings.Index(r.body, `class="banner"`) > strings.Index(r.body, "<h1>") {
		t.Error("the banner is not at the top")
	}
	// A licence in good standing: no banner.
	token, _, _ = f.db.CreateLink(ctx, postgres.NewLink{Purpose: licensing.PurposeCardUpdate, Email: "alice@acme.test", SEN: "SEN-1000001",
		WorkflowID: "card/SEN-1000001", TTL: time.Hour})
	if r := f.get(token); r.status != 200 || strings.Contains(r.body, `class="banner"`) {
		t.Fatalf("%d, banner on a paid-up licence:\n%s", r.status, r.body)
	}
}

// TestCardSaved_TellsTheRealOutcome (defect 4): the page the provider sends
// people back to says where this card's story is: not yet with us, charging,
// failed again (with the banner's words), or paid.
func TestCardSaved_TellsTheRealOutcome(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	token, _, err := f.db.CreateLink(ctx, postgres.NewLink{Purpose: licensing.PurposeCardUpdate, Email: "gina@initech.test", SEN: "SEN-1000003",
		WorkflowID: "card/SEN-1000003", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ref := base64.RawURLEncoding.EncodeToString(postgres.TokenHash(token))
	say := func(ref string) links.Result {
		t.Helper()
		r, err := f.svc.CardSaved(ctx, ref, f.db.Now())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := say(""); r.Title != "Thank you" || r.SEN != "" {
		t.Errorf("no ref: %+v", r)
	}
	if r := say("bm90IGEgaGFzaA"); r.Title != "Thank you" {
		t.Errorf("bad ref: %+v", r)
	}
	// Review #20: while not known, no tick and the page reloads itself.
	if r := say(ref); r.Title != "We're saving your card" || r.SEN != "SEN-1000003" || r.Actions[0] != links.CheckAgain || r.Tone != links.ToneWait || r.Refresh == 0 {
		t.Errorf("before the webhook: %+v", r)
	}
	k, _ := f.db.LookupLink(ctx, token)
	if err := f.db.ApplyCard(ctx, k.ID, "SEN-1000003", "pm_card_chargeDeclinedInsufficientFunds", "visa", "9995", 12, f.db.Now().Year()+4); err != nil {
		t.Fatal(err)
	}
	if r := say(ref); r.Title != "Your card is saved; we're charging it now" || !strings.Contains(r.Message, "Visa ending 9995") {
		t.Errorf("charging: %+v", r)
	}
	o, _ := f.db.Overdue(ctx, "SEN-1000003")
	attempt := func(n int, res postgres.AttemptResult) {
		key := fmt.Sprintf("%s/%d", o.Invoice, n)
		if _, _, err := f.db.BeginAttempt(ctx, o.Invoice, n, key, "pm"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.FinishAttempt(ctx, key, res); err != nil {
			t.Fatal(err)
		}
	}
	attempt(2, postgres.AttemptResult{Status: "failed", DeclineCode: "insufficient_funds", Error: "Your card has insufficient funds."})
	// Review #9: a declined card gets no tick, and Try another card.
	if r := say(ref); r.Title != "Your card is saved, but the payment failed" || !strings.Contains(r.Message, "insufficient funds") || r.Tone != links.ToneBad || !r.RetryCard {
		t.Errorf("declined again: %+v", r)
	}
	attempt(3, postgres.AttemptResult{Status: "succeeded", ProviderRef: "pi_x"})
	if r := say(ref); r.Title != "Thank you: your card is saved and the invoice is paid" || !strings.Contains(r.Next[0], o.Invoice+" (USD 10.00) is paid") || r.Tone != "" || r.Refresh != 0 {
		t.Errorf("paid: %+v", r)
	}
}

package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"licensedesk/payments"
)

// chargeNeedingAuth charges pm_card_authenticationRequired off-session, as
// a collection does: it fails with authentication_required and leaves the
// charge waiting for the cardholder.
func (e *env) chargeNeedingAuth(t *testing.T, key string) payments.Charge {
	t.Helper()
	c, err := e.sb.Charge(context.Background(), payments.ChargeInput{
		CustomerID: "cus_demo_SEN-1000003", PaymentMethodID: "pm_card_authenticationRequired", AmountCents: 1000, Currency: "USD",
		Description: "Invoice SEN-1000003-2026-11-20", IdempotencyKey: key,
		Metadata: map[string]string{"invoice": "SEN-1000003-2026-11-20", "sen": "SEN-1000003"},
	})
	var d *payments.DeclineError
	if !errors.Is(err, payments.ErrNeedsAction) || !errors.As(err, &d) || d.ChargeID != c.ID || c.Status != payments.ChargeRequiresPaymentMethod {
		t.Fatalf("charge = %+v, %v; want authentication_required", c, err)
	}
	return c
}

var challengeCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// challenge opens the bank's page of a charge and returns its form token.
func (e *env) challenge(t *testing.T, u string) string {
	t.Helper()
	code, page := get(t, u)
	m := challengeCSRF.FindStringSubmatch(page)
	if code != http.StatusOK || m == nil || !strings.Contains(page, "USD 10.00") || !strings.Contains(page, "test sandbox") {
		t.Fatalf("challenge page %d:\n%s", code, page)
	}
	return m[1]
}

func (e *env) succeeded(t *testing.T) int {
	return count(t, e.db, `SELECT count(*) FROM sandbox_charges WHERE status = 'succeeded'`)
}

func TestAuthenticate_ChallengeCompletesTheSameCharge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.chargeNeedingAuth(t, "SEN-1000003-2026-11-20/1")
	in := payments.AuthenticateInput{ChargeID: c.ID, PaymentMethodID: "pm_card_authenticationRequired", ReturnURL: "https://app.test/payment/confirmed"}
	a, err := e.sb.Authenticate(ctx, in)
	if err != nil || a.Status != payments.ChargeRequiresAction || a.URL != e.page.URL+"/sandbox/authenticate/"+c.ID {
		t.Fatalf("authenticate = %+v, %v", a, err)
	}
	// Asked again (the link pressed twice): the same open challenge.
	if again, err := e.sb.Authenticate(ctx, in); err != nil || again != a {
		t.Fatalf("again = %+v, %v", again, err)
	}
	csrf := e.challenge(t, a.URL)
	res := post(t, a.URL, url.Values{"csrf": {csrf}, "outcome": {"complete"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "https://app.test/payment/confirmed?payment_intent="+c.ID {
		t.Fatalf("complete: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	got := e.rc.got()
	if len(got) != 1 || got[0].Type != payments.EventPaymentIntentSucceeded || got[0].PaymentIntentID != c.ID ||
		got[0].Metadata["invoice"] != "SEN-1000003-2026-11-20" || got[0].AmountCents != 1000 {
		t.Fatalf("events %+v", got)
	}
	if l, err := e.sb.LookupCharge(ctx, c.ID); err != nil || l.Status != payments.ChargeSucceeded {
		t.Fatalf("lookup = %+v, %v", l, err)
	}
	// No second charge was made for it: one row, and it is the first.
	if n := count(t, e.db, `SELECT count(*) FROM sandbox_charges`); n != 1 || e.succeeded(t) != 1 {
		t.Fatalf("%d charges, %d succeeded", n, e.succeeded(t))
	}
	// Completing it again (back button, double click): the same event, once charged.
	res = post(t, a.URL, url.Values{"csrf": {csrf}, "outcome": {"complete"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second complete: %d %s", res.StatusCode, body(res))
	}
	if got2 := e.rc.got(); len(got2) != 2 || got2[1].ID != got[0].ID {
		t.Fatalf("events after a second complete %+v", got2)
	}
	if e.succeeded(t) != 1 {
		t.Fatal("charged twice")
	}
	// A succeeded charge is not cancelled: it is the payment.
	if cc, err := e.sb.CancelCharge(ctx, c.ID); err != nil || cc.Status != payments.ChargeSucceeded {
		t.Fatalf("cancel a succeeded charge = %+v, %v", cc, err)
	}
	// And asking to authenticate it says it is paid.
	if a, err := e.sb.Authenticate(ctx, in); err != nil || a.Status != payments.ChargeSucceeded || a.URL != "" {
		t.Fatalf("authenticate a paid charge = %+v, %v", a, err)
	}
}

func TestAuthenticate_FailThenCompleteLater(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.chargeNeedingAuth(t, "SEN-1000003-2026-11-20/1")
	in := payments.AuthenticateInput{ChargeID: c.ID, ReturnURL: "https://app.test/payment/confirmed"}
	a, _ := e.sb.Authenticate(ctx, in)
	res := post(t, a.URL, url.Values{"csrf": {e.challenge(t, a.URL)}, "outcome": {"fail"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("fail: %d", res.StatusCode)
	}
	got := e.rc.got()
	if len(got) != 1 || got[0].Type != payments.EventPaymentIntentFailed || got[0].DeclineCode != "payment_intent_authentication_failure" {
		t.Fatalf("events %+v", got)
	}
	// The challenge is closed: its page says so, and changes nothing.
	if code, page := get(t, a.URL); code != http.StatusConflict || !strings.Contains(page, "not waiting for your confirmation") {
		t.Fatalf("closed challenge %d:\n%s", code, page)
	}
	// A second try opens a new challenge on the same charge, which can pass.
	a2, err := e.sb.Authenticate(ctx, in)
	if err != nil || a2.URL != a.URL {
		t.Fatalf("second try = %+v, %v", a2, err)
	}
	post(t, a2.URL, url.Values{"csrf": {e.challenge(t, a2.URL)}, "outcome": {"complete"}})
	if e.succeeded(t) != 1 {
		t.Fatal("not paid after the second try")
	}
}

// A charge cancelled (a new card paid the invoice) can no longer be
// confirmed: the bank's page says so and nothing is charged.
func TestAuthenticate_CompletedAfterCancelChargesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.chargeNeedingAuth(t, "SEN-1000003-2026-11-20/1")
	a, _ := e.sb.Authenticate(ctx, payments.AuthenticateInput{ChargeID: c.ID, ReturnURL: "https://app.test/payment/confirmed"})
	csrf := e.challenge(t, a.URL)
	if cc, err := e.sb.CancelCharge(ctx, c.ID); err != nil || cc.Status != payments.ChargeCanceled {
		t.Fatalf("cancel = %+v, %v", cc, err)
	}
	res := post(t, a.URL, url.Values{"csrf": {csrf}, "outcome": {"complete"}})
	if b := body(res); res.StatusCode != http.StatusGone || !strings.Contains(b, "Nothing was charged") {
		t.Fatalf("complete after cancel: %d\n%s", res.StatusCode, b)
	}
	if e.succeeded(t) != 0 || len(e.rc.got()) != 0 {
		t.Fatalf("%d charges succeeded, events %+v", e.succeeded(t), e.rc.got())
	}
	if _, err := e.sb.Authenticate(ctx, payments.AuthenticateInput{ChargeID: c.ID, ReturnURL: "https://app.test/x"}); !errors.Is(err, payments.ErrChargeCanceled) {
		t.Fatalf("authenticate a cancelled charge: %v", err)
	}
	// Cancelling again is harmless.
	if cc, err := e.sb.CancelCharge(ctx, c.ID); err != nil || cc.Status != payments.ChargeCanceled {
		t.Fatalf("cancel again = %+v, %v", cc, err)
	}
}

// The challenge completed while a retry cancels the charge, many times
// over: each race ends with the charge either paid (and not cancelled) or
// cancelled (and not paid), never both.
func TestAuthenticate_CompleteRacesCancel(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 10 {
		c := e.chargeNeedingAuth(t, fmt.Sprintf("race/%d", i))
		a, _ := e.sb.Authenticate(ctx, payments.AuthenticateInput{ChargeID: c.ID, ReturnURL: "https://app.test/payment/confirmed"})
		csrf := e.challenge(t, a.URL)
		var wg sync.WaitGroup
		var cancelled payments.Charge
		wg.Go(func() { post(t, a.URL, url.Values{"csrf": {csrf}, "outcome": {"complete"}}) })
		wg.Go(func() { cancelled, _ = e.sb.CancelCharge(ctx, c.ID) })
		wg.Wait()
		final, _ := e.sb.LookupCharge(ctx, c.ID)
		if final.Status != cancelled.Status || (final.Status != payments.ChargeSucceeded && final.Status != payments.ChargeCanceled) {
			t.Fatalf("race %d: cancel saw %q, the charge is %q", i, cancelled.Status, final.Status)
		}
	}
}

func TestAuthenticate_Refusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// A plain decline has nothing to authenticate.
	_, err := e.sb.Charge(ctx, payments.ChargeInput{CustomerID: "cus_demo_SEN-1000003", PaymentMethodID: "pm_card_chargeDeclined",
		AmountCents: 1000, Currency: "USD", IdempotencyKey: "plain/1"})
	var d *payments.DeclineError
	errors.As(err, &d)
	if _, err := e.sb.Authenticate(ctx, payments.AuthenticateInput{ChargeID: d.ChargeID, ReturnURL: "https://app.test/x"}); err == nil || payments.Retryable(err) {
		t.Fatalf("authenticate a plain decline: %v", err)
	}
	c := e.chargeNeedingAuth(t, "SEN-1000003-2026-11-20/1")
	if _, err := e.sb.Authenticate(ctx, payments.AuthenticateInput{ChargeID: c.ID, ReturnURL: "not a url"}); err == nil {
		t.Fatal("a relative return URL was taken")
	}
	if _, err := e.sb.Authenticate(ctx, payments.AuthenticateInput{ChargeID: c.ID, PaymentMethodID: "pm_card_visa", ReturnURL: "https://app.test/x"}); err == nil {
		t.Fatal("authenticated with another card")
	}
	// Never offered for authentication: the challenge page does not exist.
	if code, _ := get(t, e.page.URL+"/sandbox/authenticate/"+c.ID); code != http.StatusNotFound {
		t.Fatalf("challenge of a charge not offered: %d", code)
	}
	a, _ := e.sb.Authenticate(ctx, payments.AuthenticateInput{ChargeID: c.ID, ReturnURL: "https://app.test/x"})
	// A form from elsewhere, or without an outcome: nothing happens.
	if res := post(t, a.URL, url.Values{"csrf": {"forged"}, "outcome": {"complete"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("forged form: %d", res.StatusCode)
	}
	if res := post(t, a.URL, url.Values{"csrf": {e.challenge(t, a.URL)}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("no outcome: %d", res.StatusCode)
	}
	if code, _ := get(t, e.page.URL+"/sandbox/authenticate/pi_sb_nosuch"); code != http.StatusNotFound {
		t.Fatalf("unknown charge: %d", code)
	}
	if e.succeeded(t) != 0 || len(e.rc.got()) != 0 {
		t.Fatal("a refusal changed something")
	}
}

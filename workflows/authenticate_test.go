package workflows

import (
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
)

// A charge the bank wants the cardholder to confirm waits for them: no
// off-session retry, a mail with their links, and when the provider
// reports the confirmation the invoice is paid — one attempt in all.
func TestCollect_AuthenticationWaitsForTheCardholderThenPays(t *testing.T) {
	e := newBillingEnv(t, "auth")
	e.RegisterDelayedCallback(func() {
		e.confirmed = true
		e.SignalWorkflow(PaymentAuthenticatedSignal, PaymentAuthenticated{ChargeID: "pi_1", EventID: "evt_1"})
		e.SignalWorkflow(PaymentAuthenticatedSignal, PaymentAuthenticated{ChargeID: "pi_1", EventID: "evt_1"}) // delivered twice
	}, 2*day)
	res := e.collect(t)
	if !res.Paid || len(e.attempts) != 1 {
		t.Fatalf("result %+v after attempts %v; want paid with the one attempt the cardholder confirmed", res, e.attempts)
	}
	if d := e.Now().Sub(e.due); d < 2*day || d > 2*day+time.Minute {
		t.Errorf("paid %v after the due date; want when the confirmation came", d)
	}
	// Day 1 was a retry date: a reminder, not a charge.
	if got := e.kinds(); strings.Join(got, ",") != "needs-authentication,needs-authentication,paid" {
		t.Fatalf("notices %v; want the ask, the day-1 reminder, paid", got)
	}
	ask := e.notices[0]
	if ask.CardLinks == nil || ask.Reminder || ask.SuspendOn.IsZero() || !strings.HasSuffix(ask.Key, "/auth/1") {
		t.Errorf("the ask %+v: want links of the collection, the suspension date, keyed by attempt", ask)
	}
	if !e.notices[1].Reminder || !strings.HasSuffix(e.notices[1].Key, "/auth/1/reminder/1") {
		t.Errorf("the reminder %+v", e.notices[1])
	}
	if !e.notices[2].Reactivated {
		t.Error("the payment did not say the licence is active again")
	}
	if e.settles != 2 { // the day-1 reminder looked first; the signals (twice) made one look
		t.Errorf("asked the provider %d times; want 2", e.settles)
	}
}

// Nobody confirms: reminders on the retry schedule (days 1, 3, 7 and 14),
// suspension on day 15 as usual, and no charge is ever retried off-session.
func TestCollect_AuthenticationRemindsOnScheduleAndSuspendsOnTheUsualDay(t *testing.T) {
	e := newBillingEnv(t, "auth")
	suspendedBy := func() bool {
		return slices.ContainsFunc(e.notices, func(n activities.BillingNoticeInput) bool { return n.Suspend })
	}
	e.RegisterDelayedCallback(func() {
		if suspendedBy() {
			t.Error("suspended before day 15")
		}
	}, 15*day-time.Hour)
	e.RegisterDelayedCallback(func() {
		if !suspendedBy() {
			t.Error("not suspended on day 15")
		}
	}, 15*day+time.Hour)
	res := e.collect(t)
	if res.Paid || len(e.attempts) != 1 {
		t.Fatalf("result %+v after attempts %v; want unpaid after the one attempt", res, e.attempts)
	}
	want := []string{"needs-authentication", "needs-authentication", "needs-authentication", "needs-authentication", "needs-authentication", "needs-authentication+suspend"}
	if got := e.kinds(); !slices.Equal(got, want) {
		t.Fatalf("notices %v; want %v", got, want)
	}
	for i, n := range e.notices[1:5] {
		if !n.Reminder || n.Suspend {
			t.Errorf("notice %d %+v is not a reminder", i+1, n)
		}
	}
}

// A new card while the charge waits: charged at once (the activity cancels
// the waiting charge first), paid, and the wait ends.
func TestCollect_NewCardWhileWaitingForTheBankChargesAtOnce(t *testing.T) {
	e := newBillingEnv(t, "auth", "ok")
	e.RegisterDelayedCallback(func() { e.SignalWorkflow(CardUpdatedSignal, nil) }, 2*day)
	res := e.collect(t)
	if !res.Paid || len(e.attempts) != 2 || e.attempts[1] != 2 {
		t.Fatalf("result %+v after attempts %v", res, e.attempts)
	}
	if d := e.Now().Sub(e.due); d < 2*day || d > 2*day+time.Minute {
		t.Errorf("paid %v after the due date; want at once when the card came", d)
	}
}

// The provider's report is lost: the reminder time asks the provider,
// finds the charge confirmed, and the invoice is paid without a reminder.
func TestCollect_AuthenticationFoundAtTheRetryTimeWhenTheReportWasLost(t *testing.T) {
	e := newBillingEnv(t, "auth")
	e.RegisterDelayedCallback(func() { e.confirmed = true }, 12*time.Hour)
	res := e.collect(t)
	if !res.Paid || len(e.attempts) != 1 {
		t.Fatalf("result %+v after attempts %v", res, e.attempts)
	}
	if got := e.kinds(); !slices.Equal(got, []string{"needs-authentication", "paid"}) {
		t.Fatalf("notices %v", got)
	}
	if d := e.Now().Sub(e.due); d < day || d > day+time.Minute {
		t.Errorf("paid %v after the due date; want at the day-1 retry time", d)
	}
}

// Collections started before "collect-sca" keep treating it as a hard
// decline: they wait for a new card, as they did.
func TestCollect_BeforeSCAVersionAuthenticationIsAHardDecline(t *testing.T) {
	e := newBillingEnv(t, "auth", "ok")
	e.OnGetVersion("collect-sca", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	e.RegisterDelayedCallback(func() { e.SignalWorkflow(CardUpdatedSignal, nil) }, 10*day)
	res := e.collect(t)
	if !res.Paid || len(e.attempts) != 2 {
		t.Fatalf("result %+v after attempts %v", res, e.attempts)
	}
	if got := e.kinds(); !slices.Equal(got, []string{"failed", "paid"}) || !e.notices[0].Hard {
		t.Fatalf("notices %v (%+v); want a hard failure, then paid with the new card", got, e.notices[0])
	}
	if e.settles != 0 {
		t.Errorf("an old collection asked the provider about authentication %d times", e.settles)
	}
}

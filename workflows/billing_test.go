package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/payments"
)

// billingEnv mocks the billing activities with a scripted card: each charge
// attempt takes the next outcome from results ("ok", a soft or a hard
// decline code); after "new card" signals, attempts use newCard.
type billingEnv struct {
	*testsuite.TestWorkflowEnvironment
	results  []string
	attempts []int
	notices  []activities.BillingNoticeInput
	cards    int // CardUpdate children started
	applied  []activities.ApplyCardInput
	due      time.Time
	// Bank authentication: whether the provider says the waiting charge
	// was confirmed, and how often the collection asked.
	confirmed bool
	settles   int
}

func newBillingEnv(t *testing.T, results ...string) *billingEnv {
	e := &billingEnv{TestWorkflowEnvironment: newTestEnv(t), results: results}
	e.due = e.Now()
	e.RegisterActivity(&activities.Activities{})
	e.RegisterWorkflow(CardUpdate)
	e.OnActivity(a.InvoiceState, mock.Anything, mock.Anything).Return(func(context.Context, activities.InvoiceStateInput) (activities.InvoiceStateOutput, error) {
		return activities.InvoiceStateOutput{SEN: sen, DueDate: e.due, LicenseStatus: licensing.Active, BillingContacts: []licensing.Email{"alice@acme.test"}}, nil
	})
	e.OnActivity(a.ChargeInvoice, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ChargeInvoiceInput) (activities.ChargeInvoiceOutput, error) {
		e.attempts = append(e.attempts, in.Attempt)
		r := "ok"
		if len(e.results) > 0 {
			r, e.results = e.results[0], e.results[1:]
		}
		if r == "ok" {
			return activities.ChargeInvoiceOutput{Paid: true, Reactivated: true}, nil
		}
		if r == "auth" { // the bank wants the cardholder to confirm it
			if !in.Authenticate {
				return activities.ChargeInvoiceOutput{Code: "authentication_required", Hard: true, Reason: "The bank wants the cardholder to confirm this payment."}, nil
			}
			return activities.ChargeInvoiceOutput{Code: "authentication_required", NeedsAuth: true, Reason: "The bank wants the cardholder to confirm this payment."}, nil
		}
		return activities.ChargeInvoiceOutput{Code: r, Hard: payments.IsHardDecline(r), Reason: "Your card was declined."}, nil
	})
	e.OnActivity(a.BillingNotice, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BillingNoticeInput) error {
		e.notices = append(e.notices, in)
		return nil
	})
	e.OnWorkflow(CardUpdate, mock.Anything, mock.Anything).Return(func(_ workflow.Context, _ CardUpdateInput) (Result, error) {
		e.cards++
		return Result{}, nil
	})
	e.OnActivity(a.SettleAuthentication, mock.Anything, mock.Anything).Return(func(context.Context, activities.SettleAuthenticationInput) (activities.SettleAuthenticationOutput, error) {
		e.settles++
		if e.confirmed {
			return activities.SettleAuthenticationOutput{Paid: true, Reactivated: true, Attempt: 1}, nil
		}
		return activities.SettleAuthenticationOutput{Status: "requires_payment_method", Attempt: 1}, nil
	})
	e.OnActivity(a.ReportProgress, mock.Anything, mock.Anything).Return(activities.ReportProgressOutput{}, nil)
	e.OnActivity(a.PostThread, mock.Anything, mock.Anything).Return(nil)
	e.OnActivity(a.RevokeLinks, mock.Anything, mock.Anything).Return(nil)
	e.OnActivity(a.ApplyCard, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ApplyCardInput) (activities.ApplyCardOutput, error) {
		e.applied = append(e.applied, in)
		return activities.ApplyCardOutput{By: "alice@acme.test", Card: "visa •••• 4242"}, nil
	})
	return e
}

func (e *billingEnv) kinds() []string {
	var out []string
	for _, n := range e.notices {
		k := n.Kind
		if n.Suspend {
			k += "+suspend"
		}
		out = append(out, k)
	}
	return out
}

func (e *billingEnv) collect(t *testing.T) CollectResult {
	t.Helper()
	e.ExecuteWorkflow(CollectInvoice, CollectInput{SEN: sen, Invoice: "SEN-1000001-2026-11-01", Channel: "C1"})
	if !e.IsWorkflowCompleted() {
		t.Fatal("not completed")
	}
	var res CollectResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestCollect_SoftDeclineRetriesThenPays(t *testing.T) {
	e := newBillingEnv(t, "generic_decline", "insufficient_funds", "ok")
	res := e.collect(t)
	if !res.Paid || len(e.attempts) != 3 {
		t.Fatalf("result %+v after attempts %v", res, e.attempts)
	}
	if d := e.Now().Sub(e.due); d < 3*day || d > 3*day+time.Hour {
		t.Errorf("paid %v after the due date; want on the day-3 retry", d)
	}
	if got := e.kinds(); len(got) != 3 || got[0] != "failed" || got[1] != "failed" || got[2] != "paid" {
		t.Errorf("notices %v", got)
	}
	for _, n := range e.notices[:2] {
		if n.CardLinks == nil || n.CardLinks.WorkflowID != "default-test-workflow-id" {
			t.Errorf("failure notice %+v carries no update-card links of the collection", n)
		}
	}
	if e.cards != 0 {
		t.Errorf("%d CardUpdate workflows started; the failure mail carries its own links", e.cards)
	}
}

func TestCollect_HardDeclineWaitsForANewCardThenChargesAtOnce(t *testing.T) {
	e := newBillingEnv(t, "stolen_card", "ok")
	e.RegisterDelayedCallback(func() {
		if len(e.attempts) != 1 {
			t.Errorf("a hard decline was retried before a new card: %v", e.attempts)
		}
		e.SignalWorkflow(CardUpdatedSignal, nil)
	}, 10*day)
	res := e.collect(t)
	if !res.Paid || len(e.attempts) != 2 {
		t.Fatalf("result %+v after attempts %v", res, e.attempts)
	}
	if d := e.Now().Sub(e.due); d < 10*day || d > 10*day+time.Minute {
		t.Errorf("charged %v after the due date; want at once on the day-10 card update", d)
	}
}

func TestCollect_RetriesRunOutSuspendThenLaterPaymentReactivates(t *testing.T) {
	e := newBillingEnv(t, "generic_decline", "generic_decline", "generic_decline", "generic_decline", "generic_decline", "ok")
	e.RegisterDelayedCallback(func() { e.SignalWorkflow(ChargeNowSignal, "U1") }, 20*day)
	res := e.collect(t)
	if !res.Paid || len(e.attempts) != 6 {
		t.Fatalf("result %+v after attempts %v", res, e.attempts)
	}
	want := []string{"failed", "failed", "failed", "failed", "failed+suspend", "paid"}
	if got := e.kinds(); len(got) != len(want) {
		t.Fatalf("notices %v; want %v", got, want)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("notices %v; want %v", got, want)
			}
		}
	}
	if !e.notices[len(e.notices)-1].Reactivated {
		t.Error("the late payment did not report the licence active again")
	}
}

func TestCollect_SuspendsOnDay15EvenWhileWaitingForACard(t *testing.T) {
	e := newBillingEnv(t, "lost_card")
	res := e.collect(t) // no card ever comes: gives up after 60 days
	if res.Paid {
		t.Fatal("paid without a card")
	}
	got := e.kinds()
	if len(got) != 2 || got[1] != "suspended" {
		t.Fatalf("notices %v; want failed then suspended", got)
	}
}

func TestCollect_CardUpdateAndChargeNowTogetherMakeOneAttempt(t *testing.T) {
	e := newBillingEnv(t, "generic_decline", "ok")
	e.RegisterDelayedCallback(func() {
		e.SignalWorkflow(CardUpdatedSignal, nil)
		e.SignalWorkflow(ChargeNowSignal, "U1")
	}, 12*time.Hour)
	res := e.collect(t)
	if !res.Paid || len(e.attempts) != 2 || e.attempts[1] != 2 {
		t.Fatalf("result %+v after attempts %v; want exactly one more attempt, numbered 2", res, e.attempts)
	}
}

// A billing cycle in flight from before the sweep answers the status query
// like every operation (it is waiting for the next billing date, which is
// its deadline) and sets the search attributes ops filter on, so /license
// status billing/<SEN> works.
func TestBillingCycle_AnswersStatusAndSetsSearchAttributes(t *testing.T) {
	e := newTestEnv(t)
	e.OnGetVersion("billing-by-sweep", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	e.RegisterActivity(&activities.Activities{})
	next := e.Now().Add(10 * day)
	e.OnActivity(a.NextBilling, mock.Anything, mock.Anything).Return(activities.NextBillingOutput{
		Date: next, Billable: true, BillingContacts: []licensing.Email{"alice@acme.test"}}, nil)
	e.OnActivity(a.CreateInvoice, mock.Anything, mock.Anything).Return(activities.CreateInvoiceOutput{}, nil)
	upserted := map[string]string{}
	e.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		for k, v := range args.Get(0).(temporal.SearchAttributes).GetUntypedValues() {
			upserted[k.GetName()] = fmt.Sprint(v)
		}
	}).Return(nil)
	var st operation.Status
	e.RegisterDelayedCallback(func() {
		v, err := e.QueryWorkflow(StatusQuery)
		if err != nil {
			t.Fatalf("status query: %v", err)
		}
		if err := v.Get(&st); err != nil {
			t.Fatal(err)
		}
	}, day)
	e.ExecuteWorkflow(BillingCycle, BillingCycleInput{SEN: sen})
	if st.Operation != "billing" || st.Step != stepBillingWait || !st.Deadline.Equal(next) || st.Done {
		t.Errorf("status while waiting = %+v; want the wait step with the billing date as deadline", st)
	}
	if got := upserted["CustomerEmails"]; got != "[alice@acme.test]" {
		t.Errorf("CustomerEmails = %v", got)
	}
	if got := upserted["OperationStep"]; got != stepBillingInvoice {
		t.Errorf("OperationStep = %q; want %q", got, stepBillingInvoice)
	}
}

// A finished operation's status carries no deadline (no "0001-01-01").
func TestStatus_FinishedHasNoZeroDeadline(t *testing.T) {
	b, err := json.Marshal(operation.Status{Done: true, Outcome: operation.Completed})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "deadline") {
		t.Errorf("status JSON = %s", b)
	}
}

// The failure mail's own update-card link leads back to the collection: a
// card captured through it is applied there and charged at once, with no
// CardUpdate workflow in between.
func TestCollect_CardCapturedThroughItsOwnLinkIsAppliedAndCharged(t *testing.T) {
	e := newBillingEnv(t, "stolen_card", "ok")
	e.RegisterDelayedCallback(func() {
		e.SignalWorkflow(CardCapturedSignal, CardCaptured{SessionID: "cs_1", PaymentMethodID: "pm_card_visa", LinkID: 7})
	}, 2*day)
	res := e.collect(t)
	if !res.Paid || len(e.attempts) != 2 {
		t.Fatalf("result %+v after attempts %v", res, e.attempts)
	}
	if len(e.applied) != 1 || e.applied[0].LinkID != 7 || e.applied[0].WorkflowID != "default-test-workflow-id" {
		t.Errorf("ApplyCard calls = %+v", e.applied)
	}
	if d := e.Now().Sub(e.due); d < 2*day || d > 2*day+time.Minute {
		t.Errorf("charged %v after the due date; want at once when the card came", d)
	}
	if e.cards != 0 {
		t.Errorf("%d CardUpdate workflows started", e.cards)
	}
}

// Billing is the sweep's: a billing cycle started now (or continued as new
// from one in flight) ends at once, doing nothing; one in flight from
// before finishes its cycle as it always did (invoice, collection, then
// continue as new into a run that ends).
func TestBillingCycle_EndsAtOnceUnlessInFlightFromBefore(t *testing.T) {
	for _, inFlight := range []bool{false, true} {
		e := newTestEnv(t)
		if inFlight {
			e.OnGetVersion("billing-by-sweep", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
		}
		e.RegisterActivity(&activities.Activities{})
		e.RegisterWorkflow(CollectInvoice)
		invoiced := 0
		e.OnActivity(a.NextBilling, mock.Anything, mock.Anything).Return(activities.NextBillingOutput{Date: e.Now().Add(day), Billable: true}, nil)
		e.OnActivity(a.CreateInvoice, mock.Anything, mock.Anything).Return(func(context.Context, activities.CreateInvoiceInput) (activities.CreateInvoiceOutput, error) {
			invoiced++
			return activities.CreateInvoiceOutput{Number: "SEN-1000001-2026-12-02"}, nil
		})
		e.OnWorkflow(CollectInvoice, mock.Anything, mock.Anything).Return(CollectResult{Paid: true}, nil)
		e.ExecuteWorkflow(BillingCycle, BillingCycleInput{SEN: sen})
		err := e.GetWorkflowError()
		switch {
		case !inFlight && (err != nil || invoiced != 0):
			t.Errorf("a new billing cycle: %v, %d invoices; want it to end at once", err, invoiced)
		case inFlight && (invoiced != 1 || !workflow.IsContinueAsNewError(err)):
			t.Errorf("a cycle in flight: %v, %d invoices; want its one invoice, then continue as new", err, invoiced)
		}
	}
}

// The sweep invoices page after page until a page comes back short, then
// empties the collection outbox the same way, and says what it did (runs
// from before "sweep-charges-first-attempts"; sweep_test.go has today's).
func TestBillingSweep_PagesUntilNothingIsDue(t *testing.T) {
	e := newTestEnv(t)
	e.OnGetVersion("sweep-charges-first-attempts", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	e.RegisterActivity(&activities.Activities{})
	due := 1250 // licences due
	e.OnActivity(a.InvoiceDue, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.InvoiceDueInput) (activities.InvoiceDueOutput, error) {
		n := min(due, in.Limit)
		due -= n
		return activities.InvoiceDueOutput{Moved: n, Invoiced: n}, nil
	})
	pending := 1250 // collections to start
	e.OnActivity(a.StartCollections, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.StartCollectionsInput) (activities.StartCollectionsOutput, error) {
		n := min(pending, in.Limit)
		pending -= n
		return activities.StartCollectionsOutput{Started: n}, nil
	})
	renewals := 700 // annual licences renewing within 30 days
	e.OnActivity(a.QueueRenewals, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.QueueRenewalsInput) (activities.QueueRenewalsOutput, error) {
		n := min(renewals, in.Limit)
		renewals -= n
		return activities.QueueRenewalsOutput{Marked: n}, nil
	})
	outbox := 120 // reminders to send, a page of 50 at a time, two mails each
	e.OnActivity(a.SendReminders, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SendRemindersInput) (activities.SendRemindersOutput, error) {
		n := min(outbox, in.Limit)
		outbox -= n
		return activities.SendRemindersOutput{Done: n, Mailed: 2 * n}, nil
	})
	e.ExecuteWorkflow(BillingSweep, BillingSweepInput{PageSize: 500})
	var res BillingSweepResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Invoiced != 1250 || res.Started != 1250 || due != 0 || pending != 0 {
		t.Errorf("result %+v, %d still due, %d still pending", res, due, pending)
	}
	if renewals != 0 || outbox != 0 || res.Reminded != 240 {
		t.Errorf("reminders: %d renewals left to queue, %d left to send, %d mailed; want 0, 0, 240", renewals, outbox, res.Reminded)
	}
	v, err := e.QueryWorkflow(StatusQuery)
	if err != nil {
		t.Fatal(err)
	}
	var st operation.Status
	_ = v.Get(&st)
	if !st.Done || st.Message != "1250 invoices created, 1250 collections started. 240 reminders mailed." {
		t.Errorf("status %+v", st)
	}
}

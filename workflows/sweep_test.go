package workflows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/operation"
)

// sweepEnv mocks the sweep's activities over an outbox of n new invoices:
// each page pays what it charges, except those deferred (no answer) the
// first time they are seen.
type sweepEnv struct {
	*testsuite.TestWorkflowEnvironment
	mu        sync.Mutex // the lanes' pages run side by side
	outbox    int        // invoice ids 1..outbox
	deferred  map[int64]bool
	seen      map[int64]bool
	pages     []activities.ChargeFirstAttemptsInput
	notices   []BillingNoticesInput
	flushes   int
	finished  []int64
	flushErr  error
	reminders int // reminders in the outbox, mailed two mails each
}

func newSweepEnv(t *testing.T, outbox int) *sweepEnv {
	e := &sweepEnv{TestWorkflowEnvironment: newTestEnv(t), outbox: outbox, deferred: map[int64]bool{}, seen: map[int64]bool{}, reminders: 120}
	e.RegisterActivity(&activities.Activities{})
	e.RegisterWorkflow(BillingNotices)
	due := outbox
	e.OnActivity(a.InvoiceDue, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.InvoiceDueInput) (activities.InvoiceDueOutput, error) {
		n := min(due, in.Limit)
		due -= n
		return activities.InvoiceDueOutput{Moved: n, Invoiced: n}, nil
	})
	e.OnActivity(a.OpenBillingRun, mock.Anything, mock.Anything).Return(activities.OpenBillingRunOutput{Run: 7}, nil)
	e.OnActivity(a.ChargeFirstAttempts, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ChargeFirstAttemptsInput) (activities.ChargeFirstAttemptsOutput, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.pages = append(e.pages, in)
		out := activities.ChargeFirstAttemptsOutput{Last: in.After}
		for id := in.After + 1; id <= int64(e.outbox) && out.Seen < in.Limit; id++ {
			if in.Lanes > 1 && id%int64(in.Lanes) != int64(in.Lane) {
				continue
			}
			if e.seen[id] && !e.deferred[id] {
				continue // settled: no longer in the outbox
			}
			out.Seen++
			out.Last = id
			if e.deferred[id] && !e.seen[id] {
				e.seen[id] = true
				out.Deferred++
				continue
			}
			e.seen[id], e.deferred[id] = true, false
			out.Paid = append(out.Paid, activities.PaidInvoice{Number: fmt.Sprint("INV-", id)})
		}
		return out, nil
	})
	e.OnActivity(a.FlushDigests, mock.Anything, mock.Anything).Return(func(context.Context, activities.FlushDigestsInput) (activities.FlushDigestsOutput, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.flushes++
		return activities.FlushDigestsOutput{}, e.flushErr
	})
	e.OnActivity(a.FinishBillingRun, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.FinishBillingRunInput) error {
		e.finished = append(e.finished, in.Run)
		return nil
	})
	e.OnActivity(a.PaidNotices, mock.Anything, mock.Anything).Return(nil)
	e.OnActivity(a.QueueRenewals, mock.Anything, mock.Anything).Return(activities.QueueRenewalsOutput{}, nil)
	e.OnActivity(a.SendReminders, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SendRemindersInput) (activities.SendRemindersOutput, error) {
		n := min(e.reminders, in.Limit)
		e.reminders -= n
		return activities.SendRemindersOutput{Done: n, Mailed: 2 * n}, nil
	})
	e.OnWorkflow(BillingNotices, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in BillingNoticesInput) (Result, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.notices = append(e.notices, in)
		return Result{}, nil
	})
	return e
}

func (e *sweepEnv) run(t *testing.T, in BillingSweepInput) BillingSweepResult {
	t.Helper()
	e.ExecuteWorkflow(BillingSweep, in)
	var res BillingSweepResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

// The sweep charges the outbox page by page in two lanes, starts the
// payment mails of each page, closes the run and has its digest brought up
// to date, and says what it did.
func TestBillingSweep_ChargesFirstAttemptsInPages(t *testing.T) {
	e := newSweepEnv(t, 600)
	res := e.run(t, BillingSweepInput{})
	if res.Invoiced != 600 || res.Paid != 600 || res.Started != 600 || res.Deferred != 0 {
		t.Errorf("result %+v", res)
	}
	if e.reminders != 0 || res.Reminded != 240 {
		t.Errorf("reminders: %d left to send, %d mailed; want 0 and 240 (the sweep sends those due once it has charged)", e.reminders, res.Reminded)
	}
	lanes := map[int][]int64{}
	for _, p := range e.pages {
		lanes[p.Lane] = append(lanes[p.Lane], p.After)
		if p.Lanes != 2 || p.Limit != 250 {
			t.Errorf("page %+v", p)
		}
	}
	// Each lane holds 300: a full page, then the rest (the last id of a
	// lane's first page is 499 or 500).
	if len(e.pages) != 4 || len(lanes[0]) != 2 || len(lanes[1]) != 2 || lanes[0][1] != 500 || lanes[1][1] != 499 {
		t.Errorf("pages by lane %v", lanes)
	}
	if len(e.notices) != 4 {
		t.Errorf("%d payment-mail workflows; want one a page", len(e.notices))
	}
	if len(e.finished) != 1 || e.finished[0] != 7 || e.flushes < 2 {
		t.Errorf("run finished %v, digest flushed %d times", e.finished, e.flushes)
	}
	v, _ := e.QueryWorkflow(StatusQuery)
	var st operation.Status
	_ = v.Get(&st)
	if !st.Done || st.Message != "600 invoices created; first attempts: 600 paid, 0 declined; 0 collections started (0 for dunning, 0 resumed as before). 240 reminders mailed." {
		t.Errorf("status %+v", st)
	}
}

// What the provider did not answer is taken again by later passes over
// the outbox (after a pause), never declined.
func TestBillingSweep_LaterPassesTakeWhatTheProviderDidNotAnswer(t *testing.T) {
	e := newSweepEnv(t, 300)
	for _, id := range []int64{3, 260, 299} {
		e.deferred[id] = true
	}
	res := e.run(t, BillingSweepInput{Lanes: 1})
	if res.Paid != 300 || res.Deferred != 0 {
		t.Errorf("result %+v", res)
	}
	if last := e.pages[len(e.pages)-1]; len(e.pages) != 3 || e.pages[2].After != 0 || last.Limit != 250 {
		t.Errorf("pages %+v; want two pages, then a second pass from the start", e.pages)
	}
}

// A Slack that fails every flush holds nothing: the sweep charges
// everything and ends.
func TestBillingSweep_SlackDownHoldsNoCharge(t *testing.T) {
	e := newSweepEnv(t, 500)
	e.flushErr = errors.New("slack chat.postMessage: 503")
	res := e.run(t, BillingSweepInput{})
	if res.Paid != 500 || len(e.finished) != 1 {
		t.Errorf("result %+v, finished %v", res, e.finished)
	}
}

// A long billing day continues as new, carrying the run and the walk.
func TestBillingSweep_ContinuesAsNewOnALongDay(t *testing.T) {
	n := (sweepPagesPerRun + 5) * 10
	e := newSweepEnv(t, n)
	e.ExecuteWorkflow(BillingSweep, BillingSweepInput{ChargePage: 10})
	var can *workflow.ContinueAsNewError
	if err := e.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("error %v; want continue as new", err)
	}
	var next BillingSweepInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if !next.Continued || next.Run != 7 || len(next.Walk) != 2 || next.Done.Paid < (sweepPagesPerRun-1)*10 || next.Notices != sweepPagesPerRun {
		t.Errorf("continued with %+v", next)
	}
	e2 := newSweepEnv(t, n)
	e2.seen = e.seen
	res := e2.run(t, next)
	if res.Paid != n || res.Invoiced != n || len(e2.finished) != 1 {
		t.Errorf("the continued run: %+v", res)
	}
}

// A collection the sweep started after a declined first attempt carries
// on from it: it mails that failure and retries on schedule, without
// charging at once.
func TestCollect_CarriesOnFromTheSweepsDecline(t *testing.T) {
	e := newBillingEnv(t, "ok")
	e.ExecuteWorkflow(CollectInvoice, CollectInput{SEN: sen, Invoice: "SEN-1000001-2026-11-01", Channel: "C1",
		Charged: &activities.ChargeInvoiceOutput{Code: "insufficient_funds", Reason: "Your card has insufficient funds."}})
	var res CollectResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if !res.Paid || len(e.attempts) != 1 || e.attempts[0] != 2 {
		t.Errorf("result %+v, attempts %v; want paid by attempt 2 on the retry day", res, e.attempts)
	}
	if k := e.kinds(); len(k) != 2 || k[0] != activities.NoticeFailed || e.notices[0].Key != "default-test-workflow-id/failed/1" || k[1] != activities.NoticePaid {
		t.Errorf("notices %v (%+v)", k, e.notices)
	}
}

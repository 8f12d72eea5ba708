package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/operation"
)

// BillingSweepInput tunes one sweep.
type BillingSweepInput struct {
	PageSize int // licences invoiced, or collections started, per activity [500]
	// ChargePage is how many invoices one page of first attempts takes
	// [250], and Lanes how many walks of the outbox go side by side [2]
	// (version 1 of "sweep-charges-first-attempts").
	ChargePage, Lanes int

	// Where a sweep that continued as new on a long billing day stands.
	Continued bool
	Run       int64              // its billing run (0: none)
	Walk      []int64            // each lane's position in the outbox (an invoice id); nil: at the start
	Pass      int                // the walk's pass: later passes take what the provider did not answer
	Deferred  int                // invoices the provider did not answer, this pass
	Notices   int                // payment-mail workflows started so far
	Done      BillingSweepResult // what the runs before did
}

// BillingSweepResult says what one sweep did.
type BillingSweepResult struct {
	Invoiced, Started int
	Reminded          int // reminder mails sent (renewals, card handovers)
	// Version 1: first attempts paid, declined (handed to dunning), and
	// collections started as before (earlier attempts); Deferred are left
	// in the outbox for the next sweep (the provider did not answer).
	Paid, Declined, HandedOff, Deferred int
}

const (
	stepSweepInvoice   = "invoice"
	stepSweepCollect   = "collect"
	stepSweepReminders = "remind"
)

// BillingSweep is billing: a Temporal Schedule starts it every few
// minutes (temporalclient.Client.EnsureBilling). It invoices every licence
// whose billing date has come, a page at a time in date order (each page
// moves its licences' dates on, so they leave the due set), then starts
// the collection of every invoice that has none yet (the outbox
// invoices.collection_started_at). Its cost grows with what is due, not
// with the number of licences: importing a million licences starts no
// workflow, and renewing or cancelling one is a row change. Every step is
// idempotent, so a sweep that dies is simply done again by the next.
func BillingSweep(ctx workflow.Context, in BillingSweepInput) (BillingSweepResult, error) {
	// Version 1 (issue 18): the sweep charges first attempts itself, in
	// pages, and posts a digest (sweep.go). Runs started before start a
	// collection per invoice (sweep_legacy.go).
	if workflow.GetVersion(ctx, "sweep-charges-first-attempts", workflow.DefaultVersion, 1) >= 1 {
		return billingSweepCharging(ctx, in)
	}
	return billingSweepByCollections(ctx, in)
}

// remindersPage is how many reminders one activity sends: each is a few
// mails, and an activity has 30 seconds.
const remindersPage = 50

// sweepReminders queues the renewal reminders that fell due (a page at a
// time, each page marking its licences so they leave the due set) and
// sends every reminder in the outbox. Like the rest of the sweep, its cost
// grows with what is due, and a sweep that dies leaves the rest to the
// next.
func sweepReminders(ctx workflow.Context, t *tracker, pageSize int, res *BillingSweepResult) error {
	actx := withActivities(ctx)
	t.begin(ctx, stepSweepReminders)
	for {
		var page activities.QueueRenewalsOutput
		if err := workflow.ExecuteActivity(actx, a.QueueRenewals, activities.QueueRenewalsInput{Today: workflow.Now(ctx), Limit: pageSize}).Get(ctx, &page); err != nil {
			return err
		}
		if page.Marked < pageSize {
			break
		}
	}
	for {
		var page activities.SendRemindersOutput
		if err := workflow.ExecuteActivity(actx, a.SendReminders, activities.SendRemindersInput{Today: workflow.Now(ctx), Limit: remindersPage}).Get(ctx, &page); err != nil {
			return err
		}
		res.Reminded += page.Mailed
		if page.Done < remindersPage {
			return nil
		}
	}
}

// The billing sweep since version 1 of "sweep-charges-first-attempts"
// (issue 18): it invoices what is due, opens a billing run that claims the
// new invoices, and charges their first attempts itself, a page at a time
// (activities.ChargeFirstAttempts, paced to the provider's limit). Paid
// invoices get their payment mails from a small workflow per page
// (BillingNotices), so a slow SMTP relay holds nothing; declined ones get a
// collection workflow that carries on from the decline (dunning); invoices
// with earlier attempts get their collection as before. The run's digest in
// the billing channel is brought up to date from a coroutine after every
// page, which nothing waits for: a slow or absent Slack delays the digest,
// never a charge. A long billing day continues as new every
// sweepPagesPerRun pages.

const (
	stepSweepCharge = "charge"
	stepSweepDigest = "digest"
)

const (
	defaultChargePage = 250
	defaultLanes      = 2
	sweepPagesPerRun  = 100              // pages before continuing as new: the history stays small
	sweepPasses       = 4                // walks of the outbox: later ones take what had no answer
	sweepPassPause    = 10 * time.Second // before the second pass; doubled before each next
)

// sweeper is one run of the charging sweep.
type sweeper struct {
	in       BillingSweepInput
	t        *tracker
	key      string // the sweep's workflow ID and first run ID
	pages    int    // pages charged by this run
	starting int    // payment-mail workflows asked for and not yet started
	flushing bool   // a digest flush is in flight
	again    bool   // flush again when it is done
	remind   bool   // version 1 of "sweep-reminders": send the reminders that are due
}

func billingSweepCharging(ctx workflow.Context, in BillingSweepInput) (BillingSweepResult, error) {
	if in.PageSize <= 0 {
		in.PageSize = 500
	}
	if in.ChargePage <= 0 {
		in.ChargePage = defaultChargePage
	}
	if in.Lanes <= 0 {
		in.Lanes = defaultLanes
	}
	info := workflow.GetInfo(ctx)
	s := &sweeper{in: in, key: info.WorkflowExecution.ID + "@" + info.FirstRunID}
	// Version 1: once every first attempt is made, the sweep also sends the
	// reminders that are due (annual renewals 30 days ahead, card
	// handovers 14 days after a move), as the sweep before issue 18 did.
	s.remind = workflow.GetVersion(ctx, "sweep-reminders", workflow.DefaultVersion, 1) >= 1
	steps := []operation.Step{
		{Key: stepSweepInvoice, Title: "Invoice the licences whose billing date has come"},
		{Key: stepSweepCharge, Title: "Charge each new invoice once; hand the declined to dunning"},
	}
	if s.remind {
		steps = append(steps, operation.Step{Key: stepSweepReminders, Title: "Send the reminders that are due"})
	}
	steps = append(steps, operation.Step{Key: stepSweepDigest, Title: "Bring the billing digest in Slack up to date"})
	var err error
	s.t, err = newTracker(ctx, operation.KindBilling, "", "Billing sweep", Requester{}, steps...)
	if err != nil {
		return in.Done, err
	}
	if !in.Continued {
		if err := s.invoice(ctx); err != nil {
			return s.in.Done, err
		}
	}
	s.t.done(stepSweepInvoice)
	s.flush(ctx) // earlier runs' digests too, whether or not this one charges
	s.t.begin(ctx, stepSweepCharge)
	if err := s.chargeAll(ctx); err != nil {
		return s.in.Done, err
	}
	return s.finish(ctx)
}

// invoice invoices the licences that are due, page by page, and opens the
// billing run that claims the new invoices.
func (s *sweeper) invoice(ctx workflow.Context) error {
	actx := withActivities(ctx)
	s.t.begin(ctx, stepSweepInvoice)
	for {
		var page activities.InvoiceDueOutput
		if err := workflow.ExecuteActivity(actx, a.InvoiceDue, activities.InvoiceDueInput{Today: workflow.Now(ctx), Limit: s.in.PageSize}).Get(ctx, &page); err != nil {
			return err
		}
		s.in.Done.Invoiced += page.Invoiced
		if page.Moved < s.in.PageSize {
			break
		}
	}
	var run activities.OpenBillingRunOutput
	if err := workflow.ExecuteActivity(actx, a.OpenBillingRun, activities.OpenBillingRunInput{WorkflowKey: s.key}).Get(ctx, &run); err != nil {
		return err
	}
	s.in.Run = run.Run
	return nil
}

// withCharging is for a page of first attempts: it heartbeats, may take
// minutes when the provider is slow, and is retried until it is done
// (each invoice is idempotent).
func withCharging(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Minute,
		HeartbeatTimeout:    20 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
}

// chargeAll walks the outbox a page at a time in Lanes lanes side by
// side (the provider's pacing is shared, so lanes add no load; they keep a
// page in flight while another's answer is handled). The next page of a
// lane is asked for as soon as its page ends, in the same workflow task as
// the page's payment mails and digest flush, which run beside it. Passes
// repeat the walk for what the provider did not answer; a long day
// continues as new every sweepPagesPerRun pages.
func (s *sweeper) chargeAll(ctx workflow.Context) error {
	for {
		if len(s.in.Walk) != s.in.Lanes {
			s.in.Walk = make([]int64, s.in.Lanes)
		}
		full, err := s.walk(ctx)
		if err != nil {
			return err
		}
		if full {
			return s.continueAsNew(ctx)
		}
		if s.in.Deferred == 0 || s.in.Pass+1 >= sweepPasses {
			s.in.Done.Deferred = s.in.Deferred
			return nil
		}
		if err := workflow.Sleep(ctx, sweepPassPause<<s.in.Pass); err != nil {
			return err
		}
		s.in.Pass, s.in.Deferred, s.in.Walk = s.in.Pass+1, 0, nil
	}
}

// walk runs every lane to the end of the outbox (or until this run has
// charged sweepPagesPerRun pages: full).
func (s *sweeper) walk(ctx workflow.Context) (full bool, err error) {
	pages := make([]workflow.Future, s.in.Lanes)
	active := 0
	for lane := range pages {
		if s.in.Walk[lane] >= 0 {
			pages[lane], active = s.askPage(ctx, lane), active+1
		}
	}
	for active > 0 {
		lane, out, err := s.nextAnswer(ctx, pages)
		if err != nil {
			return false, err
		}
		pages[lane] = nil
		active--
		s.pages++
		s.tally(ctx, lane, out)
		switch {
		case out.Seen < s.in.ChargePage:
			s.in.Walk[lane] = -1 // this lane is done
		case s.pages+active < sweepPagesPerRun:
			pages[lane], active = s.askPage(ctx, lane), active+1
		default:
			full = true // drain the pages in flight, then continue as new
		}
	}
	return full, nil
}

// nextAnswer waits for whichever lane's page ends first.
func (s *sweeper) nextAnswer(ctx workflow.Context, pages []workflow.Future) (int, activities.ChargeFirstAttemptsOutput, error) {
	var (
		out  activities.ChargeFirstAttemptsOutput
		err  error
		lane int
	)
	sel := workflow.NewSelector(ctx)
	for l, f := range pages {
		if f != nil {
			sel.AddFuture(f, func(f workflow.Future) { lane, err = l, f.Get(ctx, &out) })
		}
	}
	sel.Select(ctx)
	return lane, out, err
}

func (s *sweeper) askPage(ctx workflow.Context, lane int) workflow.Future {
	return workflow.ExecuteActivity(withCharging(ctx), a.ChargeFirstAttempts,
		activities.ChargeFirstAttemptsInput{After: s.in.Walk[lane], Limit: s.in.ChargePage, Lane: lane, Lanes: s.in.Lanes})
}

// tally adds a page to the sweep's result and starts what follows from
// it: the payment mails of its paid invoices and a digest flush.
func (s *sweeper) tally(ctx workflow.Context, lane int, out activities.ChargeFirstAttemptsOutput) {
	s.in.Walk[lane] = out.Last
	d := &s.in.Done
	d.Paid, d.Declined, d.HandedOff = d.Paid+len(out.Paid), d.Declined+out.Declined, d.HandedOff+out.HandedOff
	d.Started += len(out.Paid) + out.Declined + out.HandedOff
	s.in.Deferred += out.Deferred
	countFirstAttempts(ctx, out)
	if len(out.Paid) > 0 {
		s.startNotices(ctx, out.Paid)
	}
	s.flush(ctx)
}

// countFirstAttempts counts the page's charges as CollectInvoice counts its
// own (licensedesk_charge_attempts).
func countFirstAttempts(ctx workflow.Context, out activities.ChargeFirstAttemptsOutput) {
	m := workflow.GetMetricsHandler(ctx)
	for outcome, n := range map[string]int{"succeeded": len(out.Paid), "declined_hard": out.Hard, "declined_soft": out.Declined - out.Hard} {
		if n > 0 {
			m.WithTags(map[string]string{"outcome": outcome}).Counter(metricCharges).Inc(int64(n))
		}
	}
}

// startNotices starts the payment mails of a page's paid invoices in a
// workflow of their own, which outlives the sweep and retries until every
// mail is out; the sweep waits only for it to start.
func (s *sweeper) startNotices(ctx workflow.Context, paid []activities.PaidInvoice) {
	s.in.Notices++
	id := operation.BillingNoticesID(s.key, s.in.Notices)
	child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            id,
		ParentClosePolicy:     enums.PARENT_CLOSE_POLICY_ABANDON,
		TypedSearchAttributes: temporal.NewSearchAttributes(AttrOperation.ValueSet(string(operation.KindBilling))),
	})
	f := workflow.ExecuteChildWorkflow(child, BillingNotices, BillingNoticesInput{Invoices: paid})
	s.starting++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { s.starting-- }()
		if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Error("payment mails not started", "workflow", id, "err", err)
		}
	})
}

// waitStarts waits for the payment-mail workflows asked for to start:
// they must before this run ends or continues as new.
func (s *sweeper) waitStarts(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return s.starting == 0 })
}

// withDigest is for a digest flush: a few tries, then the next flush (the
// next page, or the next sweep) carries on from what PostgreSQL holds.
func withDigest(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 3},
	})
}

// flush brings the digests up to date from a coroutine: at most one flush
// is in flight, and a request during it makes one more after it.
func (s *sweeper) flush(ctx workflow.Context) {
	if s.flushing {
		s.again = true
		return
	}
	s.flushing = true
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { s.flushing = false }()
		for {
			s.again = false
			err := workflow.ExecuteActivity(withDigest(ctx), a.FlushDigests, activities.FlushDigestsInput{Run: s.in.Run}).Get(ctx, nil)
			if err != nil {
				workflow.GetLogger(ctx).Warn("billing digest not brought up to date; the next flush tries again", "err", err)
			}
			if !s.again {
				return
			}
		}
	})
}

// waitFlush waits a while for the flush in flight to end.
func (s *sweeper) waitFlush(ctx workflow.Context) {
	_, _ = workflow.AwaitWithTimeout(ctx, reportFlushWait, func() bool { return !s.flushing })
}

func (s *sweeper) continueAsNew(ctx workflow.Context) error {
	if err := s.waitStarts(ctx); err != nil {
		return err
	}
	s.waitFlush(ctx)
	next := s.in
	next.Continued = true
	return workflow.NewContinueAsNewError(ctx, BillingSweep, next)
}

// finish closes the run (every first attempt made), has its digest say so,
// and ends the sweep.
func (s *sweeper) finish(ctx workflow.Context) (BillingSweepResult, error) {
	if err := s.waitStarts(ctx); err != nil {
		return s.in.Done, err
	}
	s.t.done(stepSweepCharge)
	if s.remind {
		if err := sweepReminders(ctx, s.t, s.in.PageSize, &s.in.Done); err != nil {
			return s.in.Done, err
		}
		s.t.done(stepSweepReminders)
	}
	s.t.begin(ctx, stepSweepDigest)
	if s.in.Run != 0 {
		if err := workflow.ExecuteActivity(withActivities(ctx), a.FinishBillingRun, activities.FinishBillingRunInput{Run: s.in.Run}).Get(ctx, nil); err != nil {
			return s.in.Done, err
		}
	}
	s.flush(ctx)
	s.waitFlush(ctx)
	d := s.in.Done
	msg := fmt.Sprintf("%d invoices created; first attempts: %d paid, %d declined; %d collections started (%d for dunning, %d resumed as before).",
		d.Invoiced, d.Paid, d.Declined, d.Declined+d.HandedOff, d.Declined, d.HandedOff)
	if d.Deferred > 0 {
		msg += fmt.Sprintf(" %d left for the next sweep: the provider did not answer.", d.Deferred)
	}
	if s.remind {
		msg += fmt.Sprintf(" %d reminders mailed.", d.Reminded)
	}
	s.t.end(ctx, operation.Completed, msg)
	return d, nil
}

// BillingNoticesInput lists invoices a sweep's first attempts paid.
type BillingNoticesInput struct {
	Invoices []activities.PaidInvoice
}

const stepNoticesMail = "mail"

// BillingNotices mails the billing contacts of each invoice one page of
// the billing sweep paid (activities.PaidNotices), retrying until every
// mail is out: an SMTP relay that throttles or is down delays the mails,
// never the sweep, and loses none. The mails' keys are the ones the
// invoice's own collection would use, so none is sent twice.
func BillingNotices(ctx workflow.Context, in BillingNoticesInput) (Result, error) {
	t, err := newTracker(ctx, operation.KindBilling, "", fmt.Sprintf("Payment mails for %d invoices", len(in.Invoices)), Requester{},
		operation.Step{Key: stepNoticesMail, Title: "Mail each paid invoice's billing contacts"})
	if err != nil {
		return Result{}, err
	}
	t.begin(ctx, stepNoticesMail)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute},
	})
	if err := workflow.ExecuteActivity(actx, a.PaidNotices, activities.PaidNoticesInput{Invoices: in.Invoices}).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	return t.finish(ctx, operation.Completed, fmt.Sprintf("Payment mails sent for %d invoices.", len(in.Invoices)))
}

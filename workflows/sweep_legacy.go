package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/operation"
)

// billingSweepByCollections is BillingSweep before version 1 of
// "sweep-charges-first-attempts" (issue 18): it invoices what is due and
// starts a CollectInvoice per new invoice, which makes the first attempt.
// Sweeps are short and started every few minutes by the schedule, so
// runs from before the version are gone soon after it is deployed. This
// branch may be deleted once none is open, i.e. once
//
//	temporal workflow count --query "WorkflowType = 'BillingSweep' AND ExecutionStatus = 'Running' AND StartTime < '<deployment of the version>'"
//
// is 0, together with the histories that replay it
// (before-sweep-charges-first-attempts/billing-sweep-completed.json and any other BillingSweep
// history recorded before the version) and the activities
// only it calls (StartCollections).
func billingSweepByCollections(ctx workflow.Context, in BillingSweepInput) (BillingSweepResult, error) {
	if in.PageSize <= 0 {
		in.PageSize = 500
	}
	// Version 1: the sweep also sends the reminders that are due (annual
	// renewals 30 days ahead, card handovers 14 days after a move).
	remind := workflow.GetVersion(ctx, "sweep-reminders", workflow.DefaultVersion, 1) >= 1
	steps := []operation.Step{
		{Key: stepSweepInvoice, Title: "Invoice the licences whose billing date has come"},
		{Key: stepSweepCollect, Title: "Start the collection of every new invoice"},
	}
	if remind {
		steps = append(steps, operation.Step{Key: stepSweepReminders, Title: "Send the reminders that are due"})
	}
	t, err := newTracker(ctx, operation.KindBilling, "", "Billing sweep", Requester{}, steps...)
	if err != nil {
		return BillingSweepResult{}, err
	}
	actx := withActivities(ctx)
	var res BillingSweepResult
	t.begin(ctx, stepSweepInvoice)
	for {
		var page activities.InvoiceDueOutput
		if err := workflow.ExecuteActivity(actx, a.InvoiceDue, activities.InvoiceDueInput{Today: workflow.Now(ctx), Limit: in.PageSize}).Get(ctx, &page); err != nil {
			return res, err
		}
		res.Invoiced += page.Invoiced
		if page.Moved < in.PageSize {
			break
		}
	}
	t.done(stepSweepInvoice)
	t.begin(ctx, stepSweepCollect)
	for {
		var page activities.StartCollectionsOutput
		if err := workflow.ExecuteActivity(actx, a.StartCollections, activities.StartCollectionsInput{Limit: in.PageSize}).Get(ctx, &page); err != nil {
			return res, err
		}
		res.Started += page.Started
		if page.Started < in.PageSize {
			break
		}
	}
	msg := fmt.Sprintf("%d invoices created, %d collections started.", res.Invoiced, res.Started)
	if remind {
		t.done(stepSweepCollect)
		if err := sweepReminders(ctx, t, in.PageSize, &res); err != nil {
			return res, err
		}
		msg += fmt.Sprintf(" %d reminders mailed.", res.Reminded)
	}
	_, err = t.finish(ctx, operation.Completed, msg)
	return res, err
}

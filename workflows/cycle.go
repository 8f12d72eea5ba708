package workflows

import (
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/licensing"
	"licensedesk/operation"
)

// The legacy per-licence billing cycle, superseded by BillingSweep
// ("billing-by-sweep"). Nothing starts BillingCycle any more.
//
// When it may be deleted: once no run of BillingCycle is open, i.e.
//
//	temporal workflow count --query "WorkflowType = 'BillingCycle' AND ExecutionStatus = 'Running'"
//
// says 0 in every namespace that ever ran it. Then delete this file, its
// entry in All, its tests in billing_test.go and the replay history
// testdata/histories/before-billing-by-sweep/billing-cycle-waiting.json (and
// activities.NextBilling/CreateInvoice if nothing else uses them). Until
// then it must stay registered under its name and replay unchanged.

// BillingCycleInput names the licence.
type BillingCycleInput struct {
	SEN     licensing.SEN
	Channel string
	Policy  licensing.DunningSchedule // the dunning schedule (zero: the default)
}

// BillingCycle runs one billing cycle of a cloud licence per run: it sleeps
// until the next billing date, invoices the period, starts CollectInvoice
// for it (which lives on its own) and continues as new for the next cycle.
// A long-running workflow (rather than a Temporal Schedule) because each
// licence's date moves with its cycle and status, and the workflow reads it
// afresh each time; cancelled licences end their cycle. It answers the
// status query like every operation, with the next billing date as its
// deadline.
//
// Billing is now BillingSweep's; runs of BillingCycle still in flight from
// an earlier version finish the cycle they sleep in (invoice, collection:
// the sweep's SQL is idempotent with theirs per period), and the run they
// continue as new ends at once. Nothing starts new ones.
func BillingCycle(ctx workflow.Context, in BillingCycleInput) error {
	if workflow.GetVersion(ctx, "billing-by-sweep", workflow.DefaultVersion, 1) >= 1 {
		return nil
	}
	t, err := newTracker(ctx, operation.KindBilling, in.SEN, "Billing cycle of "+string(in.SEN), Requester{},
		operation.Step{Key: stepBillingWait, Title: "Wait for the next billing date"},
		operation.Step{Key: stepBillingInvoice, Title: "Invoice the period and start its collection"},
	)
	if err != nil {
		return err
	}
	// Runs started before the status contract set no search attributes
	// beyond those given at start; they keep doing so until they continue
	// as new.
	attrs := workflow.GetVersion(ctx, "billing-search-attributes", workflow.DefaultVersion, 1) >= 1
	begin := func(step string) {
		if attrs {
			t.begin(ctx, step)
			return
		}
		t.st.Step = step
		t.set(step, operation.Active)
	}
	actx := withActivities(ctx)
	var next activities.NextBillingOutput
	if err := workflow.ExecuteActivity(actx, a.NextBilling, activities.NextBillingInput{SEN: in.SEN}).Get(ctx, &next); err != nil {
		return err
	}
	if attrs && len(next.BillingContacts) > 0 {
		_ = workflow.UpsertTypedSearchAttributes(ctx, AttrCustomerEmails.ValueSet(emails(next.BillingContacts...)))
	}
	if !next.Billable {
		t.st.Done, t.st.Outcome, t.st.Message = true, operation.Completed, string(in.SEN)+" is not billed (a server or cancelled licence)."
		return nil // server or cancelled licence: nothing to bill
	}
	begin(stepBillingWait)
	t.st.Deadline = next.Date
	if wait := next.Date.Sub(workflow.Now(ctx)); wait > 0 {
		if err := workflow.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	t.done(stepBillingWait)
	t.st.Deadline = time.Time{}
	begin(stepBillingInvoice)
	var inv activities.CreateInvoiceOutput
	if err := workflow.ExecuteActivity(actx, a.CreateInvoice, activities.CreateInvoiceInput{SEN: in.SEN, PeriodStart: next.Date}).Get(ctx, &inv); err != nil {
		return err
	}
	if inv.Number != "" {
		child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:        operation.InvoiceID(inv.Number),
			ParentClosePolicy: enums.PARENT_CLOSE_POLICY_ABANDON, // collection outlives this cycle's run
			TypedSearchAttributes: temporal.NewSearchAttributes(
				AttrLicenseSEN.ValueSet(string(in.SEN)), AttrOperation.ValueSet(string(operation.KindInvoice))),
		})
		f := workflow.ExecuteChildWorkflow(child, CollectInvoice, CollectInput{SEN: in.SEN, Invoice: inv.Number, Policy: in.Policy, Channel: in.Channel})
		_ = f.GetChildWorkflowExecution().Get(ctx, nil)
	}
	return workflow.NewContinueAsNewError(ctx, BillingCycle, in)
}

const (
	stepBillingWait    = "wait"
	stepBillingInvoice = "invoice"
)

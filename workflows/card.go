package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/operation"
)

// CardUpdateInput asks for a new card on a licence.
type CardUpdateInput struct {
	SEN    licensing.SEN
	By     Requester
	Expiry time.Duration // how long the links live; default 7 days (SPEC §3)
	// For, when set, is the one signed-in person who updates the card from
	// the account page: nobody is emailed, and the account page makes
	// their link (workflow ID CardUpdateForID).
	For licensing.Email
}

// CardCaptured is what the payment provider reported (webhook).
type CardCaptured struct {
	SessionID       string
	PaymentMethodID string
	LinkID          int64
}

const (
	stepCardLinks  = "links"
	stepCardWait   = "wait"
	stepCardApply  = "apply"
	stepCardCharge = "charge"
)

// CardUpdate emails update-card links to exactly the people allowed to use
// them (monthly: billing and technical contacts and site admins; annual:
// site admins only), waits up to 7 days for one of them to capture a card
// with the provider, makes it the default and, if the licence is past due,
// has the open invoice charged at once. The permission is checked again
// when a link is used and when the card is applied.
func CardUpdate(ctx workflow.Context, in CardUpdateInput) (Result, error) {
	if in.Expiry <= 0 {
		in.Expiry = 7 * 24 * time.Hour
	}
	t, err := newTracker(ctx, operation.KindCard, in.SEN, "Update the card of "+string(in.SEN), in.By,
		operation.Step{Key: stepCardLinks, Title: "Email update-card links to those allowed"},
		operation.Step{Key: stepCardWait, Title: "Someone saves a new card"},
		operation.Step{Key: stepCardApply, Title: "Make it the default"},
		operation.Step{Key: stepCardCharge, Title: "Charge what is due with it"},
	)
	if err != nil {
		return Result{}, err
	}
	actx := withActivities(ctx)

	t.begin(ctx, stepCardLinks)
	var plan activities.PlanCardUpdateOutput
	if err := workflow.ExecuteActivity(actx, a.PlanCardUpdate, activities.PlanCardUpdateInput{SEN: in.SEN}).Get(ctx, &plan); err != nil {
		return t.fail(ctx, err)
	}
	deadline := workflow.Now(ctx).Add(in.Expiry)
	if in.For != "" {
		// From the account page: only that person, who must be allowed.
		if !slices.Contains(plan.Recipients, in.For) {
			return t.fail(ctx, temporalerr.New(licensing.Forbidden, fmt.Sprintf("%s may not update the card of %s.", in.For, in.SEN)))
		}
		plan.Recipients = []licensing.Email{in.For}
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrCustomerEmails.ValueSet(emails(plan.Recipients...)))
	if in.For == "" {
		if err := t.sendLinks(ctx, activities.SendLinksInput{
			Purpose: licensing.PurposeCardUpdate, To: plan.Recipients, SEN: in.SEN, WorkflowID: t.st.WorkflowID, MailKey: t.mailKey(), Deadline: deadline,
			RequestedBy: in.By.Asker(),
		}); err != nil {
			return t.fail(ctx, err)
		}
	}
	t.done(stepCardLinks)
	if in.For == "" {
		t.note(ctx, "Update-card links sent to "+emailList(plan.Recipients)+".")
	}

	t.begin(ctx, stepCardWait)
	t.waiting(ctx, plan.Recipients, deadline)
	capturedCh := workflow.GetSignalChannel(ctx, CardCapturedSignal)
	var applied activities.ApplyCardOutput
	for {
		var got CardCaptured
		timer, cancel := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		received := false
		sel.AddReceive(capturedCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &got); received = true })
		sel.AddFuture(workflow.NewTimer(timer, deadline.Sub(workflow.Now(ctx))), func(workflow.Future) {})
		sel.Select(ctx)
		cancel()
		if err := ctx.Err(); err != nil {
			dctx, _ := workflow.NewDisconnectedContext(ctx)
			_ = workflow.ExecuteActivity(withActivities(dctx), a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: activities.RevokedCancelled}).Get(dctx, nil)
			// Version 1: those sent a link are told (review #14).
			if workflow.GetVersion(dctx, "cancel-tells-waiting", workflow.DefaultVersion, 1) >= 1 {
				t.tellCancelled(dctx, activities.NotifyInput{SEN: in.SEN, Operation: "card"})
			}
			t.end(dctx, operation.Cancelled, "Cancelled by "+orSomeone(t.cancelBy)+"; the card is unchanged.")
			return Result{Outcome: operation.Cancelled}, temporal.NewCanceledError()
		}
		if !received {
			_ = workflow.ExecuteActivity(actx, a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: activities.RevokedExpired}).Get(ctx, nil)
			msg := "Nobody saved a new card within " + days(in.Expiry) + "; the card is unchanged."
			return t.finish(ctx, operation.Expired, msg)
		}
		t.done(stepCardWait)
		t.begin(ctx, stepCardApply)
		err := workflow.ExecuteActivity(actx, a.ApplyCard, activities.ApplyCardInput{
			SEN: in.SEN, WorkflowID: t.st.WorkflowID, SessionID: got.SessionID, PaymentMethodID: got.PaymentMethodID, LinkID: got.LinkID,
		}).Get(ctx, &applied)
		if de := temporalerr.ToDomain(err); de != nil {
			// A duplicate or stale report (webhook delivered twice, a link
			// no longer allowed): note it and keep waiting for a good one.
			t.note(ctx, "Card not applied: "+de.Message)
			t.set(stepCardApply, operation.Pending)
			t.begin(ctx, stepCardWait)
			continue
		}
		if err != nil {
			return Result{}, err
		}
		t.done(stepCardApply)
		break
	}
	_ = workflow.ExecuteActivity(actx, a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: activities.RevokedDone}).Get(ctx, nil)
	// Version 1: the card update waits to hear how the charge it asked for
	// went, so its message says what happened rather than what should.
	hearResult := workflow.GetVersion(ctx, "card-hears-charge-result", workflow.DefaultVersion, 1) >= 1
	var replyTo string
	if hearResult {
		replyTo = t.st.WorkflowID
	}
	if applied.Invoice != "" {
		// Past due: the open invoice is charged at once. Its collection may
		// have stopped (after 60 days); then it starts again.
		var payload any
		if hearResult {
			payload = CardUpdated{ReplyTo: replyTo}
		}
		err := workflow.SignalExternalWorkflow(ctx, operation.InvoiceID(applied.Invoice), "", CardUpdatedSignal, payload).Get(ctx, nil)
		if err != nil {
			child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
				WorkflowID: operation.InvoiceID(applied.Invoice), ParentClosePolicy: enums.PARENT_CLOSE_POLICY_ABANDON,
				WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
				TypedSearchAttributes: temporal.NewSearchAttributes(AttrLicenseSEN.ValueSet(string(in.SEN)), AttrOperation.ValueSet(string(operation.KindInvoice))),
			})
			f := workflow.ExecuteChildWorkflow(child, CollectInvoice, CollectInput{SEN: in.SEN, Invoice: applied.Invoice, Channel: in.By.Channel, ChargeNow: true, ReplyTo: replyTo})
			_ = f.GetChildWorkflowExecution().Get(ctx, nil)
		}
	}
	msg := fmt.Sprintf("%s saved a new card (%s) for %s.", applied.By, applied.Card, in.SEN)
	outcome := operation.Completed
	switch {
	case applied.Invoice == "":
		msg += " It will be charged on the next billing date."
	case !hearResult:
		msg += fmt.Sprintf(" Invoice %s is being charged now.", applied.Invoice)
	default:
		t.begin(ctx, stepCardCharge)
		var res ChargeResult
		got := false
		timer, cancel := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(workflow.GetSignalChannel(ctx, ChargeResultSignal), func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &res); got = true })
		sel.AddFuture(workflow.NewTimer(timer, chargeResultWait), func(workflow.Future) {})
		sel.Select(ctx)
		cancel()
		switch {
		case !got:
			msg += fmt.Sprintf(" Invoice %s is being charged with it; the result goes to the billing contacts and the billing channel.", applied.Invoice)
		case res.Paid:
			msg += fmt.Sprintf(" Invoice %s is paid.", applied.Invoice)
		default:
			outcome = operation.Failure
			msg += fmt.Sprintf(" Charging invoice %s with it failed: %s The billing contacts were emailed.", applied.Invoice, orDeclined(res.Reason))
		}
	}
	t.end(ctx, outcome, msg)
	return Result{Outcome: outcome, Message: msg}, nil
}

// chargeResultWait bounds how long a card update waits to hear how the
// charge it asked for went.
const chargeResultWait = 2 * time.Minute

func orDeclined(reason string) string {
	if reason == "" {
		return "the card was declined."
	}
	return reason
}

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
	u := &cardUpdate{in: in, t: t, actx: withActivities(ctx)}
	if err := u.sendLinks(ctx); err != nil {
		return t.fail(ctx, err)
	}
	if ended, res, err := u.awaitCard(ctx); ended {
		return res, err
	}
	return u.chargeWithIt(ctx)
}

// cardUpdate is one run of CardUpdate.
type cardUpdate struct {
	in         CardUpdateInput
	t          *tracker
	actx       workflow.Context // for activities
	recipients []licensing.Email
	deadline   time.Time
	applied    activities.ApplyCardOutput
}

// sendLinks finds who may update the card and mails them their links
// (nobody for one person on the account page, who must be allowed).
func (u *cardUpdate) sendLinks(ctx workflow.Context) error {
	in, t := u.in, u.t
	t.begin(ctx, stepCardLinks)
	var plan activities.PlanCardUpdateOutput
	if err := workflow.ExecuteActivity(u.actx, a.PlanCardUpdate, activities.PlanCardUpdateInput{SEN: in.SEN}).Get(ctx, &plan); err != nil {
		return err
	}
	u.deadline = workflow.Now(ctx).Add(in.Expiry)
	if in.For != "" {
		// From the account page: only that person, who must be allowed.
		if !slices.Contains(plan.Recipients, in.For) {
			return temporalerr.New(licensing.Forbidden, fmt.Sprintf("%s may not update the card of %s.", in.For, in.SEN))
		}
		plan.Recipients = []licensing.Email{in.For}
	}
	u.recipients = plan.Recipients
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrCustomerEmails.ValueSet(emails(plan.Recipients...)))
	if in.For == "" {
		if err := t.sendLinks(ctx, activities.SendLinksInput{
			Purpose: licensing.PurposeCardUpdate, To: plan.Recipients, SEN: in.SEN, WorkflowID: t.st.WorkflowID, MailKey: t.mailKey(), Deadline: u.deadline,
			RequestedBy: in.By.Asker(),
		}); err != nil {
			return err
		}
	}
	t.done(stepCardLinks)
	if in.For == "" {
		t.note(ctx, "Update-card links sent to "+emailList(plan.Recipients)+".")
	}
	return nil
}

// awaitCard waits for a card saved through the links and makes it the
// default. ended is true, with what CardUpdate returns, when the update
// ended instead: cancelled, expired or failed.
func (u *cardUpdate) awaitCard(ctx workflow.Context) (ended bool, res Result, err error) {
	t := u.t
	t.begin(ctx, stepCardWait)
	t.waiting(ctx, u.recipients, u.deadline)
	capturedCh := workflow.GetSignalChannel(ctx, CardCapturedSignal)
	for {
		var got CardCaptured
		timer, cancel := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		received := false
		sel.AddReceive(capturedCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &got); received = true })
		sel.AddFuture(workflow.NewTimer(timer, u.deadline.Sub(workflow.Now(ctx))), func(workflow.Future) {})
		sel.Select(ctx)
		cancel()
		if ctx.Err() != nil {
			res, err := u.cancelled(ctx)
			return true, res, err
		}
		if !received {
			_ = workflow.ExecuteActivity(u.actx, a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: activities.RevokedExpired}).Get(ctx, nil)
			msg := "Nobody saved a new card within " + days(u.in.Expiry) + "; the card is unchanged."
			res, err := t.finish(ctx, operation.Expired, msg)
			return true, res, err
		}
		t.done(stepCardWait)
		t.begin(ctx, stepCardApply)
		err := workflow.ExecuteActivity(u.actx, a.ApplyCard, activities.ApplyCardInput{
			SEN: u.in.SEN, WorkflowID: t.st.WorkflowID, SessionID: got.SessionID, PaymentMethodID: got.PaymentMethodID, LinkID: got.LinkID,
		}).Get(ctx, &u.applied)
		if de := temporalerr.ToDomain(err); de != nil {
			// A duplicate or stale report (webhook delivered twice, a link
			// no longer allowed): note it and keep waiting for a good one.
			t.note(ctx, "Card not applied: "+de.Message)
			t.set(stepCardApply, operation.Pending)
			t.begin(ctx, stepCardWait)
			continue
		}
		if err != nil {
			return true, Result{}, err
		}
		t.done(stepCardApply)
		return false, Result{}, nil
	}
}

// cancelled ends a card update cancelled while it waited: its links are
// revoked and those sent one are told.
func (u *cardUpdate) cancelled(ctx workflow.Context) (Result, error) {
	t := u.t
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	_ = workflow.ExecuteActivity(withActivities(dctx), a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: activities.RevokedCancelled}).Get(dctx, nil)
	// Version 1: those sent a link are told (review #14).
	if workflow.GetVersion(dctx, "cancel-tells-waiting", workflow.DefaultVersion, 1) >= 1 {
		t.tellCancelled(dctx, activities.NotifyInput{SEN: u.in.SEN, Operation: "card"})
	}
	t.end(dctx, operation.Cancelled, "Cancelled by "+orSomeone(t.cancelBy)+"; the card is unchanged.")
	return Result{Outcome: operation.Cancelled}, temporal.NewCanceledError()
}

// chargeWithIt revokes the links and, if the licence is past due, has
// its open invoice charged with the new card, saying how that went.
func (u *cardUpdate) chargeWithIt(ctx workflow.Context) (Result, error) {
	t, applied := u.t, u.applied
	_ = workflow.ExecuteActivity(u.actx, a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: activities.RevokedDone}).Get(ctx, nil)
	// Version 1: the card update waits to hear how the charge it asked for
	// went, so its message says what happened rather than what should.
	hearResult := workflow.GetVersion(ctx, "card-hears-charge-result", workflow.DefaultVersion, 1) >= 1
	if applied.Invoice != "" {
		u.askCharge(ctx, hearResult)
	}
	msg := fmt.Sprintf("%s saved a new card (%s) for %s.", applied.By, applied.Card, u.in.SEN)
	outcome := operation.Completed
	switch {
	case applied.Invoice == "":
		msg += " It will be charged on the next billing date."
	case !hearResult:
		msg += fmt.Sprintf(" Invoice %s is being charged now.", applied.Invoice)
	default:
		var said string
		outcome, said = u.hearCharge(ctx)
		msg += said
	}
	t.end(ctx, outcome, msg)
	return Result{Outcome: outcome, Message: msg}, nil
}

// askCharge has the open invoice charged at once: its collection is
// signalled, or started again if it had stopped (after 60 days). With
// hearResult the collection reports the attempt back here.
func (u *cardUpdate) askCharge(ctx workflow.Context, hearResult bool) {
	var replyTo string
	if hearResult {
		replyTo = u.t.st.WorkflowID
	}
	var payload any
	if hearResult {
		payload = CardUpdated{ReplyTo: replyTo}
	}
	invoice := u.applied.Invoice
	err := workflow.SignalExternalWorkflow(ctx, operation.InvoiceID(invoice), "", CardUpdatedSignal, payload).Get(ctx, nil)
	if err != nil {
		child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID: operation.InvoiceID(invoice), ParentClosePolicy: enums.PARENT_CLOSE_POLICY_ABANDON,
			WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			TypedSearchAttributes: temporal.NewSearchAttributes(AttrLicenseSEN.ValueSet(string(u.in.SEN)), AttrOperation.ValueSet(string(operation.KindInvoice))),
		})
		f := workflow.ExecuteChildWorkflow(child, CollectInvoice, CollectInput{SEN: u.in.SEN, Invoice: invoice, Channel: u.in.By.Channel, ChargeNow: true, ReplyTo: replyTo})
		_ = f.GetChildWorkflowExecution().Get(ctx, nil)
	}
}

// hearCharge waits up to chargeResultWait for the collection to say how
// the charge went, and words it.
func (u *cardUpdate) hearCharge(ctx workflow.Context) (operation.Outcome, string) {
	invoice := u.applied.Invoice
	u.t.begin(ctx, stepCardCharge)
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
		return operation.Completed, fmt.Sprintf(" Invoice %s is being charged with it; the result goes to the billing contacts and the billing channel.", invoice)
	case res.Paid:
		return operation.Completed, fmt.Sprintf(" Invoice %s is paid.", invoice)
	default:
		return operation.Failure, fmt.Sprintf(" Charging invoice %s with it failed: %s The billing contacts were emailed.", invoice, orDeclined(res.Reason))
	}
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

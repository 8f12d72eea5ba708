package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/operation"
)

// VerifyInput asks the licence's people to confirm that Requester, who
// contacted sales, may act on the licence.
type VerifyInput struct {
	SEN       licensing.SEN
	Requester licensing.Email
	By        Requester
	Timing    Timing
	// Scope is what Requester asked sales to do (the mail names it);
	// empty: not said.
	Scope []licensing.RequestScope
}

// VerifyResult says how the verification ended.
type VerifyResult struct {
	Outcome operation.Outcome
	Message string
	By      licensing.Email // who approved or declined
}

const stepVerifyConfirm = "confirm"

// Verify checks the licence, emails its primary contacts (and site admins)
// an approve/decline link, reminds them after 3 days, gives up after 14, and
// reports to Slack. It changes nothing on the licence.
func Verify(ctx workflow.Context, in VerifyInput) (VerifyResult, error) {
	timing := in.Timing.orDefault()
	t, err := newTracker(ctx, operation.KindVerify, in.SEN, fmt.Sprintf("Verify %s for %s", in.Requester, in.SEN), in.By,
		operation.Step{Key: stepCheck, Title: "Check the licence"},
		operation.Step{Key: stepVerifyConfirm, Title: "A contact or site admin confirms by email"},
	)
	if err != nil {
		return VerifyResult{}, err
	}
	var decision *DecideResult
	err = workflow.SetUpdateHandlerWithOptions(ctx, DecideUpdate,
		func(ctx workflow.Context, d DecideInput) (DecideResult, error) {
			var out activities.RedeemDecisionOutput
			err := workflow.ExecuteActivity(withActivities(ctx), a.RedeemDecision, activities.RedeemDecisionInput{
				TokenHash: d.TokenHash, WorkflowID: t.st.WorkflowID, Purpose: licensing.PurposeConfirmRequest, Approve: d.Approve,
			}).Get(ctx, &out)
			if err != nil {
				return DecideResult{}, err
			}
			if decision == nil {
				decision = &DecideResult{By: out.By, Approve: d.Approve}
			}
			return *decision, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, d DecideInput) error {
			if t.st.Step != stepVerifyConfirm || decision != nil {
				return errNotWaiting
			}
			return nil
		}})
	if err != nil {
		return VerifyResult{}, err
	}

	res, err := runVerify(ctx, in, timing, t, func() *DecideResult { return decision })
	if isCancel(ctx, err) {
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		_ = workflow.ExecuteActivity(withActivities(dctx), a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: activities.RevokedCancelled}).Get(dctx, nil)
		// Version 1: those asked to confirm are told (review #14).
		if workflow.GetVersion(dctx, "cancel-tells-waiting", workflow.DefaultVersion, 1) >= 1 {
			t.tellCancelled(dctx, activities.NotifyInput{SEN: in.SEN, Operation: "verify", NewEmail: in.Requester})
		}
		t.end(dctx, operation.Cancelled, "Cancelled by "+orSomeone(t.cancelBy)+".")
		finishHandlers(dctx)
		return VerifyResult{Outcome: operation.Cancelled}, temporal.NewCanceledError()
	}
	finishHandlers(ctx)
	return res, err
}

func runVerify(ctx workflow.Context, in VerifyInput, timing Timing, t *tracker, decision func() *DecideResult) (VerifyResult, error) {
	actx := withActivities(ctx)
	end := func(outcome operation.Outcome, msg string, by licensing.Email) (VerifyResult, error) {
		_ = workflow.ExecuteActivity(actx, a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: revokeReason(outcome)}).Get(ctx, nil)
		t.end(ctx, outcome, msg)
		return VerifyResult{Outcome: outcome, Message: msg, By: by}, nil
	}

	t.begin(ctx, stepCheck)
	var plan activities.PlanVerifyOutput
	if err := workflow.ExecuteActivity(actx, a.PlanVerify, activities.PlanVerifyInput{SEN: in.SEN}).Get(ctx, &plan); err != nil {
		if de := temporalerr.ToDomain(err); de != nil {
			return end(operation.Failure, de.Message, "")
		}
		return VerifyResult{}, err
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrCustomerEmails.ValueSet(emails(append([]licensing.Email{in.Requester}, plan.Confirmers...)...)))
	t.done(stepCheck)

	t.begin(ctx, stepVerifyConfirm)
	deadline := workflow.Now(ctx).Add(timing.Expiry)
	send := func(ctx workflow.Context, reminder bool) error {
		return t.sendLinks(ctx, activities.SendLinksInput{
			Purpose: licensing.PurposeConfirmRequest, To: plan.Confirmers, SEN: in.SEN, WorkflowID: t.st.WorkflowID, MailKey: t.mailKey(),
			Deadline: deadline, Reminder: reminder, RequesterEmail: in.Requester, RequestedBy: in.By.Asker(), Scope: in.Scope,
			RequestedAt: workflow.GetInfo(ctx).WorkflowStartTime,
		})
	}
	if err := send(ctx, false); err != nil {
		if de := temporalerr.ToDomain(err); de != nil {
			return end(operation.Failure, de.Message, "")
		}
		return VerifyResult{}, err
	}
	t.waiting(ctx, plan.Confirmers, deadline)
	ok, err := awaitPerson(ctx, timing, deadline, func() bool { return decision() != nil || t.allLeft(plan.Confirmers) }, func(ctx workflow.Context) {
		if err := send(ctx, true); err != nil {
			workflow.GetLogger(ctx).Warn("verification reminder failed", "err", err)
		}
		t.note(ctx, "Reminder sent to "+emailList(plan.Confirmers)+".")
	})
	if err != nil {
		return VerifyResult{}, err
	}
	if decision() == nil && t.allLeft(plan.Confirmers) {
		return end(operation.Failure, fmt.Sprintf("%s, asked to confirm %s's request, no longer belongs to %s; %s is not verified. Ask again to reach the licence's contacts as they are now.",
			emailList(plan.Confirmers), in.Requester, in.SEN, in.Requester), "")
	}
	if !ok {
		return end(operation.Expired, fmt.Sprintf("Nobody confirmed %s's request within %s.", in.Requester, days(timing.Expiry)), "")
	}
	d := decision()
	if !d.Approve {
		return end(operation.Declined, fmt.Sprintf("%s declined: %s is not verified for %s.", d.By, in.Requester, in.SEN), d.By)
	}
	return end(operation.Completed, fmt.Sprintf("%s confirmed: %s is verified for %s.", d.By, in.Requester, in.SEN), d.By)
}

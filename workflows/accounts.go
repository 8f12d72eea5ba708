package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/licensing"
	"licensedesk/mail"
	"licensedesk/operation"
)

// The operations behind the customer's account page (issue 5). Contact
// changes and card updates from the account page use ContactAdd,
// ContactRemove and CardUpdate, the workflows Slack starts; these are what
// only a signed-in customer or a reset request does.

// PasswordInput names the email a password operation is about.
type PasswordInput struct {
	Email licensing.Email
	Reset bool // PasswordChanged: through a reset link
	// Event is the security event the mail names the browser of (its id;
	// the browser and address stay in the database); 0: none.
	Event int64
}

const (
	stepMail        = "mail"
	stepPromoteSelf = "promote"
	stepPromoteTell = "tell"
)

// PasswordReset emails a reset link when the email belongs to an active
// account, and nothing otherwise. It is a workflow so that ops see resets
// in the Temporal UI and a mail server outage is retried; it starts the
// moment the form is posted, before anyone knows whether the account
// exists, so the answer takes the same time either way. Its status says
// only that the request was handled, never whether a mail went out.
func PasswordReset(ctx workflow.Context, in PasswordInput) (Result, error) {
	return mailStep(ctx, operation.KindPasswordReset, "Password reset requested for "+string(in.Email), in.Email,
		"Email a reset link if the account exists", "Reset request handled.", resetMailFor,
		func(info *workflow.Info) (any, any) {
			return a.SendPasswordReset, activities.PasswordResetInput{
				Email: in.Email, WorkflowID: info.WorkflowExecution.ID, Key: info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID,
			}
		})
}

// PasswordChanged emails an account that its password was changed or
// reset, so a change its owner did not make is noticed.
func PasswordChanged(ctx workflow.Context, in PasswordInput) (Result, error) {
	return mailStep(ctx, operation.KindPasswordChanged, "Password changed for "+string(in.Email), in.Email,
		"Email a confirmation", "Confirmation sent to "+string(in.Email)+".", 0,
		func(info *workflow.Info) (any, any) {
			return a.NotifyPasswordChanged, activities.PasswordChangedInput{
				Email: in.Email, When: info.WorkflowStartTime, Reset: in.Reset, Key: info.WorkflowExecution.ID, Event: in.Event,
			}
		})
}

// SignInLocked emails an account holder that wrong passwords paused
// sign-in to their account, naming the browser and address (kept in the
// database: only the event's id is in this workflow's input). Its ID is
// one an hour per account, and the mail's key is the ID: one mail an hour
// however often the lock comes back.
func SignInLocked(ctx workflow.Context, in PasswordInput) (Result, error) {
	return mailStep(ctx, operation.KindSignInLocked, "Sign-in paused for "+string(in.Email), in.Email,
		"Email the account holder", "Lock notice sent to "+string(in.Email)+".", resetMailFor,
		func(info *workflow.Info) (any, any) {
			return a.NotifySignInLocked, activities.SignInLockedInput{Email: in.Email, Event: in.Event, Key: info.WorkflowExecution.ID}
		})
}

// resetMailFor is how long a reset mail is retried: the life of the link
// it carries (accounts.Options.ResetTTL, 1 hour). A mail after that would
// only hold a dead link; the person can ask again.
const resetMailFor = time.Hour

// mailStep is an operation of one step for one person: run the mail
// activity that activity returns (function and input, built from the
// workflow's info) and complete with msg.
//
// With retryFor set, a mail that cannot be delivered is retried with
// backoff for that long, then given up: logged, and the operation still
// completes with msg (whose answer must not depend on the mail). A
// non-retryable failure fails the operation either way.
func mailStep(ctx workflow.Context, kind operation.Kind, summary string, email licensing.Email, title, msg string, retryFor time.Duration, activity func(*workflow.Info) (fn, input any)) (Result, error) {
	t, err := newTracker(ctx, kind, "", summary, Requester{Email: string(email)}, operation.Step{Key: stepMail, Title: title})
	if err != nil {
		return Result{}, err
	}
	t.begin(ctx, stepMail)
	fn, input := activity(workflow.GetInfo(ctx))
	actx := withActivities(ctx)
	if retryFor > 0 {
		opts := workflow.GetActivityOptions(actx)
		opts.ScheduleToCloseTimeout = retryFor
		actx = workflow.WithActivityOptions(ctx, opts)
	}
	if err := workflow.ExecuteActivity(actx, fn, input).Get(ctx, nil); err != nil {
		if retryFor <= 0 || !retriesRanOut(ctx, err) {
			return Result{}, err
		}
		workflow.GetLogger(ctx).Warn("mail not delivered in time; given up", "operation", kind, "retried_for", retryFor, "err", err)
	}
	return t.finish(ctx, operation.Completed, msg)
}

// retriesRanOut reports whether an activity failed only because its retries
// ran out of time, rather than with an error retrying could never fix, or
// because the workflow was cancelled.
func retriesRanOut(ctx workflow.Context, err error) bool {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NonRetryable() {
		return false
	}
	return !isCancel(ctx, err)
}

// PromoteSelf makes a signed-in contact the primary In.Role contact from
// the account page, in one transaction (the former primary becomes
// secondary and is told). The person's own session is the consent that a
// promotion link gives in the Promote workflow; any running Promote offer
// stays valid for its other roles.
func PromoteSelf(ctx workflow.Context, in ContactInput) (Result, error) {
	t, err := newTracker(ctx, operation.KindPromoteSelf, in.SEN, fmt.Sprintf("%s makes themselves primary %s contact of %s", in.Email, in.Role, in.SEN), in.By,
		operation.Step{Key: stepPromoteSelf, Title: "Make them primary"},
		operation.Step{Key: stepPromoteTell, Title: "Tell the former primary"},
	)
	if err != nil {
		return Result{}, err
	}
	actx := withActivities(ctx)
	t.begin(ctx, stepPromoteSelf)
	var out activities.PromoteContactOutput
	by := actorOf(in.By, t)
	by.Run = workflow.GetInfo(ctx).WorkflowExecution.RunID
	if err := workflow.ExecuteActivity(actx, a.PromoteContact, activities.PromoteContactInput{
		SEN: in.SEN, Role: in.Role, Email: in.Email, By: by,
	}).Get(ctx, &out); err != nil {
		return t.fail(ctx, err)
	}
	if !out.Promoted {
		msg := fmt.Sprintf("%s was already the primary %s contact of %s; nothing changed.", in.Email, in.Role, in.SEN)
		return t.finish(ctx, operation.Completed, msg)
	}
	t.done(stepPromoteSelf)
	if out.Former != "" {
		t.begin(ctx, stepPromoteTell)
		_ = workflow.ExecuteActivity(actx, a.Notify, activities.NotifyInput{
			Key: t.mailKey("demoted"), Kind: activities.NotifyPromoted,
			To: out.Former, SEN: in.SEN, Role: in.Role, NewEmail: in.Email, Via: "account",
		}).Get(ctx, nil)
	}
	// Version 1: the other primary contact hears of it too (review #7).
	if workflow.GetVersion(ctx, "promote-self-tells-primaries", workflow.DefaultVersion, 1) >= 1 {
		var former []licensing.Email
		if out.Former != "" {
			former = []licensing.Email{out.Former}
		}
		tellPrimaries(ctx, t, activities.NotifyPrimariesInput{SEN: in.SEN, Change: mail.ChangePromoted, Contact: in.Email, Roles: []licensing.Role{in.Role},
			By: string(in.Email), Via: "account", Former: former, Except: former})
	}
	msg := fmt.Sprintf("%s is now the primary %s contact of %s.", in.Email, in.Role, in.SEN)
	if out.Former != "" {
		msg += fmt.Sprintf(" %s is now a secondary %s contact.", out.Former, in.Role)
	}
	return t.finish(ctx, operation.Completed, msg)
}

package workflows

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
)

// ResendInput names whom to mail again: Email, or everyone the step waits
// on when it is empty; By is the Slack user who asked.
type ResendInput struct {
	Email licensing.Email
	By    string
}

// ResendResult lists who got a fresh link.
type ResendResult struct {
	Sent []licensing.Email
}

// resendEvery is how soon one person may be sent another link.
const resendEvery = 10 * time.Minute

// sendLinks mails the links of a step. The first mail of a step (not a
// reminder) is remembered, so /license resend can mail the same link
// afresh to whoever the step waits on.
func (t *tracker) sendLinks(ctx workflow.Context, in activities.SendLinksInput) error {
	err := workflow.ExecuteActivity(withActivities(ctx), a.SendLinks, in).Get(ctx, nil)
	if err == nil && !in.Reminder {
		t.links = &in
	}
	return err
}

// registerResend lets /license resend reach every operation; the ones not
// waiting on anyone by email refuse it with the reason.
func (t *tracker) registerResend(ctx workflow.Context) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, ResendUpdate,
		func(ctx workflow.Context, in ResendInput) (ResendResult, error) {
			targets := t.resendTargets(in.Email)
			now := workflow.Now(ctx)
			for _, to := range targets {
				t.resent[to] = now
			}
			actx := withActivities(ctx)
			var res ResendResult
			for _, to := range targets {
				if err := workflow.ExecuteActivity(actx, a.RevokePersonLinks, activities.RevokePersonLinksInput{
					WorkflowID: t.st.WorkflowID, Email: to, Purpose: t.links.Purpose}).Get(ctx, nil); err != nil {
					return res, err
				}
				t.resends++
				again := *t.links
				if len(again.Everyone) == 0 {
					again.Everyone = t.links.To
				}
				again.To, again.Reminder, again.Resent = []licensing.Email{to}, false, true
				again.MailKey = t.mailKey("resend", strconv.Itoa(t.resends))
				if err := workflow.ExecuteActivity(actx, a.SendLinks, again).Get(ctx, nil); err != nil {
					return res, err
				}
				_ = workflow.ExecuteActivity(actx, a.RecordResend, activities.RecordResendInput{
					SEN: licensing.SEN(t.st.SEN), WorkflowID: t.st.WorkflowID, Email: to, By: in.By}).Get(ctx, nil)
				res.Sent = append(res.Sent, to)
				t.note(ctx, fmt.Sprintf("A fresh link went to %s, asked by <@%s>; the one before no longer works.", to, in.By))
			}
			return res, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in ResendInput) error {
			if t.st.Done {
				return temporalerr.New(licensing.FailedPrecondition, t.st.WorkflowID+" has already ended ("+string(t.st.Outcome)+").")
			}
			if t.links == nil || len(t.st.WaitingOn) == 0 {
				return temporalerr.New(licensing.FailedPrecondition, fmt.Sprintf("%s waits on nobody by email right now (at: %s).", t.st.WorkflowID, t.st.Current().Title))
			}
			if in.Email != "" && !slices.Contains(t.st.WaitingOn, string(in.Email)) {
				return temporalerr.New(licensing.FailedPrecondition, fmt.Sprintf("%s does not wait on %s; it waits on %s.", t.st.WorkflowID, in.Email, joinEmails(t.st.WaitingOn)))
			}
			now := workflow.Now(ctx)
			for _, to := range t.resendTargets(in.Email) {
				if last, ok := t.resent[to]; ok && now.Sub(last) < resendEvery {
					return temporalerr.New(licensing.FailedPrecondition, fmt.Sprintf("A fresh link went to %s at %s UTC; another can be sent from %s UTC.",
						to, last.UTC().Format("15:04"), last.Add(resendEvery).UTC().Format("15:04")))
				}
			}
			return nil
		}})
}

// resendTargets is email, or everyone the step waits on.
func (t *tracker) resendTargets(email licensing.Email) []licensing.Email {
	if email != "" {
		return []licensing.Email{email}
	}
	out := make([]licensing.Email, len(t.st.WaitingOn))
	for i, e := range t.st.WaitingOn {
		out[i] = licensing.Email(e)
	}
	return out
}

func joinEmails(list []string) string {
	out := ""
	for i, e := range list {
		if i > 0 {
			out += ", "
		}
		out += e
	}
	return out
}

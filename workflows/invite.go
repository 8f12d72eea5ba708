package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/licensing"
	"licensedesk/operation"
)

// InviteInput names a person a provisioned licence names whose account is
// still pending (SPEC §9 "invite": true).
type InviteInput struct {
	SEN    licensing.SEN
	Email  licensing.Email
	Roles  []licensing.Role // their contact roles; none for a site admin only
	Timing Timing           // the link lives Timing.Expiry (14 days)
}

const stepInvite = "invite"

// Invite mails a person the provisioning API attached to a licence the
// account-setup invitation (a complete_account link), as ContactAdd does
// for a contact added from Slack. Mail goes out only from the worker, so
// the API starts this instead of mailing itself. SendLinks sends once per
// key, so a retried activity mails once; the person's account-setup page
// does the rest.
func Invite(ctx workflow.Context, in InviteInput) (Result, error) {
	t, err := newTracker(ctx, operation.KindInvite, in.SEN, fmt.Sprintf("Invite %s to set up their account for %s", in.Email, in.SEN),
		Requester{Email: string(in.Email)},
		operation.Step{Key: stepInvite, Title: "Email the invitation"},
	)
	if err != nil {
		return Result{}, err
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrCustomerEmails.ValueSet(emails(in.Email)))
	t.begin(ctx, stepInvite)
	err = workflow.ExecuteActivity(withActivities(ctx), a.SendLinks, activities.SendLinksInput{
		Purpose: licensing.PurposeCompleteAccount, To: []licensing.Email{in.Email}, SEN: in.SEN,
		WorkflowID: t.st.WorkflowID, MailKey: t.mailKey(), Deadline: workflow.Now(ctx).Add(in.Timing.orDefault().Expiry),
		MoveRoles: in.Roles, RequestedBy: "the licence's vendor",
	}).Get(ctx, nil)
	if err != nil {
		return t.fail(ctx, err)
	}
	return t.finish(ctx, operation.Completed, fmt.Sprintf("%s was invited to set up their account for %s.", in.Email, in.SEN))
}

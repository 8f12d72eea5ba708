package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"licensedesk/activities"

	"licensedesk/licensing"
	"licensedesk/operation"
)

func TestInvite_MailsTheAccountSetupLink(t *testing.T) {
	e := newMoveEnv(t)
	e.RegisterWorkflow(Invite)
	e.ExecuteWorkflow(Invite, InviteInput{SEN: "SEN-3000001", Email: "b@acme.test", Roles: []licensing.Role{licensing.Technical}})
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil || res.Outcome != operation.Completed {
		t.Fatalf("result %+v, %v", res, err)
	}
	if len(e.sent) != 1 {
		t.Fatalf("sent %d mails; want 1", len(e.sent))
	}
	in := e.sent[0]
	if in.Purpose != licensing.PurposeCompleteAccount || len(in.To) != 1 || in.To[0] != "b@acme.test" || in.SEN != "SEN-3000001" ||
		len(in.MoveRoles) != 1 || in.MoveRoles[0] != licensing.Technical || in.MailKey == "" {
		t.Errorf("invitation = %+v", in)
	}
	// The link lives 14 days, like every invitation.
	if d := in.Deadline.Sub(e.sentAt[0]); d != 14*24*time.Hour {
		t.Errorf("link lives %v", d)
	}
	if st := e.status(t); !st.Done || st.Operation != string(operation.KindInvite) {
		t.Errorf("status = %+v", st)
	}
}

// A licence gone meanwhile (a domain error from SendLinks) ends the
// operation with the reason, not a retry loop.
func TestInvite_AFailedMailEndsWithTheReason(t *testing.T) {
	e := newTestEnv(t)
	e.RegisterActivity(&activities.Activities{})
	e.RegisterWorkflow(Invite)
	e.OnActivity(a.SendLinks, mock.Anything, mock.Anything).Return(
		temporal.NewNonRetryableApplicationError("No licence SEN-9999999 found.", string(licensing.NotFound), nil))
	e.ExecuteWorkflow(Invite, InviteInput{SEN: "SEN-9999999", Email: "b@acme.test"})
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil || res.Outcome != operation.Failure || res.Message != "No licence SEN-9999999 found." {
		t.Fatalf("result %+v, %v", res, err)
	}
}

package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"licensedesk/activities"
	"licensedesk/operation"
)

// The daily run queues once, then mails page after page until a page
// comes back short, and says what it did.
func TestCardReminders_QueuesThenMailsPageByPage(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.RegisterActivity(&activities.Activities{})
	queued := 0
	e.OnActivity(a.QueueCardReminders, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.QueueCardRemindersInput) (activities.QueueCardRemindersOutput, error) {
		queued++
		if !in.Today.Equal(e.Now()) {
			t.Errorf("queued for %v; want the workflow's clock %v", in.Today, e.Now())
		}
		return activities.QueueCardRemindersOutput{Queued: 120}, nil
	})
	left := 120
	e.OnActivity(a.SendCardReminders, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SendCardRemindersInput) (activities.SendCardRemindersOutput, error) {
		n := min(left, in.Limit)
		left -= n
		return activities.SendCardRemindersOutput{Done: n, Mailed: 2 * (n - 1), Skipped: 1}, nil
	})
	e.ExecuteWorkflow(CardReminders, CardRemindersInput{PageSize: 50})
	var res CardRemindersResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if queued != 1 || left != 0 || res.Queued != 120 || res.Mailed != 2*(120-3) || res.Skipped != 3 {
		t.Errorf("result %+v, queued %d times, %d left", res, queued, left)
	}
	v, err := e.QueryWorkflow(StatusQuery)
	if err != nil {
		t.Fatal(err)
	}
	var st operation.Status
	_ = v.Get(&st)
	if !st.Done || st.Message != "120 reminders came due; 234 mails sent, 3 reminders dropped (card replaced or licence cancelled)." {
		t.Errorf("status %+v", st)
	}
}

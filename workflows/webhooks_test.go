package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"licensedesk/activities"
	"licensedesk/operation"
)

// fakeReceiver stands in for the delivery activity over a backlog of
// events and a receiver that is down until downUntil (by the workflow's
// clock, which the test environment skips forward).
type fakeReceiver struct {
	pending   []int64
	delivered map[int64]int
	downUntil time.Time
	disabled  bool
	disables  []string
	goneAfter time.Time // report the endpoint deleted once the backlog is empty and this has passed
	attempts  int
}

func newFakeReceiver(n int, downUntil time.Time) *fakeReceiver {
	f := &fakeReceiver{delivered: map[int64]int{}, downUntil: downUntil}
	for i := range n {
		f.pending = append(f.pending, int64(i+1))
	}
	return f
}

func (f *fakeReceiver) deliver(_ context.Context, in activities.DeliverWebhooksInput) (activities.DeliverWebhooksOutput, error) {
	out := activities.DeliverWebhooksOutput{URL: "https://hooks.example.com/x"}
	if len(f.pending) == 0 && in.Now.After(f.goneAfter) {
		return activities.DeliverWebhooksOutput{Gone: true}, nil
	}
	if f.disabled {
		return activities.DeliverWebhooksOutput{Disabled: true, Backlog: len(f.pending)}, nil
	}
	batch := f.pending[:min(in.Limit, len(f.pending))]
	out.Attempted, out.Full = len(batch), len(batch) == in.Limit
	f.attempts += len(batch)
	if in.Now.Before(f.downUntil) {
		out.LastError = "connection refused"
	} else {
		for _, id := range batch {
			f.delivered[id]++
		}
		out.Delivered = len(batch)
		f.pending = f.pending[len(batch):]
	}
	out.Backlog = len(f.pending)
	return out, nil
}

func newWebhookEnv(f *fakeReceiver) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(a.DeliverWebhooks, mock.Anything, mock.Anything).Return(f.deliver)
	env.OnActivity(a.DisableWebhookEndpoint, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DisableWebhookEndpointInput) error {
		f.disabled = true
		f.disables = append(f.disables, in.Reason)
		return nil
	})
	return env
}

func statusOf(t *testing.T, env *testsuite.TestWorkflowEnvironment) operation.Status {
	t.Helper()
	v, err := env.QueryWorkflow(StatusQuery)
	if err != nil {
		t.Fatal(err)
	}
	var st operation.Status
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestDeliverWebhooks_ReceiverDownForAnHourLosesNothing: 600 events
// while the receiver is down for an hour; it is retried with backoff (a
// probe at a time, not the whole backlog each round), then everything is
// delivered, and the endpoint is never disabled.
func TestDeliverWebhooks_ReceiverDownForAnHourLosesNothing(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	start := s.NewTestWorkflowEnvironment().Now()
	f := newFakeReceiver(600, start.Add(time.Hour))
	f.goneAfter = start.Add(2 * time.Hour)
	env := newWebhookEnv(f)
	var during operation.Status
	env.RegisterDelayedCallback(func() { during = statusOf(t, env) }, 30*time.Minute)
	env.ExecuteWorkflow(DeliverWebhooks, DeliverWebhooksInput{EndpointID: "ep_abcdefghijklmnop"})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	if len(f.delivered) != 600 || len(f.pending) != 0 {
		t.Errorf("delivered %d of 600; %d left", len(f.delivered), len(f.pending))
	}
	if len(f.disables) != 0 {
		t.Errorf("an hour's outage disabled the endpoint: %v", f.disables)
	}
	if during.Step != stepWebhookRetry || during.Deadline.IsZero() || during.Operation != "webhooks" {
		t.Errorf("status during the outage: %+v", during)
	}
	// While down, each round probes a few events rather than the backlog.
	if f.attempts > 600+512+20*16 { // the delivered ones, a first full batch, then probes
		t.Errorf("%d attempts for 600 events and an hour's outage: the backlog was hammered", f.attempts)
	}
}

// TestDeliverWebhooks_DisabledAfterThreeDaysThenResumes: a receiver down
// for four days gets its endpoint disabled (with an alert) after three;
// enabled again, every event waiting is delivered.
func TestDeliverWebhooks_DisabledAfterThreeDaysThenResumes(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	start := s.NewTestWorkflowEnvironment().Now()
	f := newFakeReceiver(40, start.Add(4*24*time.Hour))
	f.goneAfter = start.Add(5*24*time.Hour + time.Hour)
	env := newWebhookEnv(f)
	var whileDisabled operation.Status
	env.RegisterDelayedCallback(func() {
		whileDisabled = statusOf(t, env)
		f.disabled = false // ops enable it once the receiver is back
		env.SignalWorkflow(NudgeWebhooksSignal, WebhookNudge{Manual: true})
	}, 5*24*time.Hour)
	env.ExecuteWorkflow(DeliverWebhooks, DeliverWebhooksInput{EndpointID: "ep_abcdefghijklmnop", Channel: "C0BILLING"})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	if len(f.disables) != 1 {
		t.Fatalf("disabled %d times: %v", len(f.disables), f.disables)
	}
	if whileDisabled.Step != stepWebhookDisabled {
		t.Errorf("status while disabled: %+v", whileDisabled)
	}
	if len(f.delivered) != 40 {
		t.Errorf("after enabling, %d of 40 delivered", len(f.delivered))
	}
}

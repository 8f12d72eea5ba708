package workflows

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"licensedesk/activities"
	"licensedesk/licensing"
	"licensedesk/operation"
)

// accountEnv mocks the activities of the account-page workflows (password
// mails, self-promotion, the card update) and records what they were asked.
// Tests set the answers before running.
type accountEnv struct {
	*testsuite.TestWorkflowEnvironment
	id, runID string // the workflow execution the env runs

	resetErrs  []error // SendPasswordReset: one error per attempt, then nil
	promoteOut activities.PromoteContactOutput
	promoteErr error
	recipients []licensing.Email // PlanCardUpdate's answer
	applyOut   activities.ApplyCardOutput

	resets        []activities.PasswordResetInput
	resetRetryFor []time.Duration // each SendPasswordReset attempt's ScheduleToCloseTimeout
	changed       []activities.PasswordChangedInput
	promoted      []activities.PromoteContactInput
	notified      []activities.NotifyInput
	primaries     []activities.NotifyPrimariesInput
	planned       []activities.PlanCardUpdateInput
	sent          []activities.SendLinksInput
	applied       []activities.ApplyCardInput
	revoked       []activities.RevokeLinksInput
}

func newAccountEnv(t *testing.T, id string) *accountEnv {
	e := &accountEnv{TestWorkflowEnvironment: newTestEnv(t), id: id, runID: "default-test-run-id",
		recipients: []licensing.Email{"alice@acme.test", "bob@acme.test"},
		applyOut:   activities.ApplyCardOutput{By: "bob@acme.test", Card: "visa •••• 4242"},
	}
	e.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: id})
	e.RegisterActivity(&activities.Activities{})
	e.OnActivity(a.SendPasswordReset, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.PasswordResetInput) error {
		e.resets = append(e.resets, in)
		e.resetRetryFor = append(e.resetRetryFor, activity.GetInfo(ctx).ScheduleToCloseTimeout)
		if len(e.resetErrs) > 0 {
			err := e.resetErrs[0]
			e.resetErrs = e.resetErrs[1:]
			return err
		}
		return nil
	})
	e.OnActivity(a.NotifyPasswordChanged, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PasswordChangedInput) error {
		e.changed = append(e.changed, in)
		return nil
	})
	e.OnActivity(a.PromoteContact, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PromoteContactInput) (activities.PromoteContactOutput, error) {
		e.promoted = append(e.promoted, in)
		if e.promoteErr != nil {
			return activities.PromoteContactOutput{}, e.promoteErr
		}
		return e.promoteOut, nil
	})
	e.OnActivity(a.Notify, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.NotifyInput) error {
		e.notified = append(e.notified, in)
		return nil
	})
	e.OnActivity(a.NotifyPrimaries, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.NotifyPrimariesInput) error {
		e.primaries = append(e.primaries, in)
		return nil
	})
	e.OnActivity(a.PlanCardUpdate, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PlanCardUpdateInput) (activities.PlanCardUpdateOutput, error) {
		e.planned = append(e.planned, in)
		return activities.PlanCardUpdateOutput{Recipients: slices.Clone(e.recipients)}, nil
	})
	e.OnActivity(a.SendLinks, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SendLinksInput) error {
		e.sent = append(e.sent, in)
		return nil
	})
	e.OnActivity(a.ApplyCard, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ApplyCardInput) (activities.ApplyCardOutput, error) {
		e.applied = append(e.applied, in)
		return e.applyOut, nil
	})
	e.OnActivity(a.RevokeLinks, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RevokeLinksInput) error {
		e.revoked = append(e.revoked, in)
		return nil
	})
	e.OnActivity(a.ReportProgress, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ReportProgressInput) (activities.ReportProgressOutput, error) {
		in.Ref.TS = "1700000000.000100"
		return activities.ReportProgressOutput{Ref: in.Ref}, nil
	})
	e.OnActivity(a.PostThread, mock.Anything, mock.Anything).Return(nil)
	return e
}

func (e *accountEnv) result(t *testing.T) Result {
	t.Helper()
	if !e.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	return res
}

func (e *accountEnv) status(t *testing.T) operation.Status {
	t.Helper()
	v, err := e.QueryWorkflow(StatusQuery)
	if err != nil {
		t.Fatal(err)
	}
	var st operation.Status
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

const resetEmail = licensing.Email("alice@acme.test")

// runReset runs PasswordReset with SendPasswordReset failing as errs say
// (one error per attempt, then success) and returns the env afterwards.
func runReset(t *testing.T, errs ...error) (*accountEnv, Result, operation.Status) {
	t.Helper()
	e := newAccountEnv(t, operation.PasswordResetID(resetEmail))
	e.resetErrs = errs
	e.ExecuteWorkflow(PasswordReset, PasswordInput{Email: resetEmail})
	return e, e.result(t), e.status(t)
}

func TestPasswordReset_SendsOnceWithTheRunsKey(t *testing.T) {
	e, res, st := runReset(t)
	if res.Outcome != operation.Completed {
		t.Fatalf("result = %+v", res)
	}
	want := activities.PasswordResetInput{Email: resetEmail, WorkflowID: e.id, Key: e.id + "/" + e.runID}
	if len(e.resets) != 1 || e.resets[0] != want {
		t.Fatalf("SendPasswordReset calls = %+v; want one %+v", e.resets, want)
	}
	if !st.Done || st.Outcome != operation.Completed || st.Message != res.Message {
		t.Errorf("status = %+v; want done and completed with the result's message", st)
	}
	for _, s := range st.Steps {
		if s.State != operation.Done {
			t.Errorf("step %s = %s; want done", s.Key, s.State)
		}
	}
}

// Whether the account exists is decided inside SendPasswordReset, which
// answers the same either way; the workflow's result and status must not
// differ with it, nor with a mail outage on the way.
func TestPasswordReset_AnswerDoesNotRevealTheAccount(t *testing.T) {
	_, sent, sentSt := runReset(t)
	_, outage, outageSt := runReset(t, errors.New("smtp: connection refused"))
	if sent != outage || sentSt.Message != outageSt.Message || sentSt.Outcome != outageSt.Outcome {
		t.Fatalf("results differ: %+v / %+v; statuses %q / %q", sent, outage, sentSt.Message, outageSt.Message)
	}
	if sent.Message == "" {
		t.Fatal("empty message")
	}
	lower := strings.ToLower(sent.Message)
	for _, leak := range []string{string(resetEmail), "sent", "no account", "not found", "exists", "unknown"} {
		if strings.Contains(lower, leak) {
			t.Errorf("message %q contains %q", sent.Message, leak)
		}
	}
}

func TestPasswordReset_RetriesAMailOutage(t *testing.T) {
	e, res, _ := runReset(t, errors.New("smtp: connection refused"), errors.New("smtp: connection refused"))
	if res.Outcome != operation.Completed {
		t.Fatalf("result = %+v", res)
	}
	if len(e.resets) != 3 {
		t.Fatalf("SendPasswordReset ran %d times; want 2 failures and a success", len(e.resets))
	}
	for _, in := range e.resets {
		if in != e.resets[0] {
			t.Errorf("a retry changed the input: %+v vs %+v", in, e.resets[0])
		}
	}
}

// A mail server that keeps refusing: the mail is retried with backoff for
// as long as its link lives (an hour; the test environment stops retries
// sooner, after 10 attempts), then given up, and the request still ends as
// handled, with the answer of any other request.
func TestPasswordReset_RetriesWhileTheLinkLivesThenGivesUp(t *testing.T) {
	outage := make([]error, 100)
	for i := range outage {
		outage[i] = errors.New("smtp: 451 4.7.1 greylisted, try again later")
	}
	e := newAccountEnv(t, operation.PasswordResetID(resetEmail))
	e.resetErrs = outage
	e.ExecuteWorkflow(PasswordReset, PasswordInput{Email: resetEmail})
	res := e.result(t)
	if res.Outcome != operation.Completed || res.Message != "Reset request handled." {
		t.Fatalf("result = %+v; want the usual answer", res)
	}
	if len(e.resets) < 2 {
		t.Fatalf("SendPasswordReset ran %d times; want retries", len(e.resets))
	}
	for i, in := range e.resets {
		if in != e.resets[0] {
			t.Fatalf("a retry changed the request: %+v vs %+v", in, e.resets[0])
		}
		if e.resetRetryFor[i] != time.Hour {
			t.Fatalf("attempt %d: ScheduleToCloseTimeout %v; want the link's hour", i+1, e.resetRetryFor[i])
		}
	}
	if st := e.status(t); !st.Done || st.Outcome != operation.Completed {
		t.Errorf("status = %+v", st)
	}
}

func TestPasswordReset_NonRetryableFailureFailsTheWorkflow(t *testing.T) {
	e := newAccountEnv(t, operation.PasswordResetID(resetEmail))
	e.resetErrs = []error{temporal.NewNonRetryableApplicationError("boom", "internal", nil)}
	e.ExecuteWorkflow(PasswordReset, PasswordInput{Email: resetEmail})
	if !e.IsWorkflowCompleted() {
		t.Fatal("not completed")
	}
	if err := e.GetWorkflowError(); err == nil {
		t.Fatal("a non-retryable mail failure was reported as handled")
	}
	if len(e.resets) != 1 {
		t.Errorf("SendPasswordReset ran %d times; a non-retryable error is not retried", len(e.resets))
	}
}

func TestPasswordChanged_SendsTheConfirmation(t *testing.T) {
	for _, reset := range []bool{false, true} {
		at := time.Date(2031, 3, 14, 9, 26, 53, 0, time.UTC)
		e := newAccountEnv(t, operation.PasswordChangedID(resetEmail, at))
		e.SetStartTime(at)
		e.ExecuteWorkflow(PasswordChanged, PasswordInput{Email: resetEmail, Reset: reset})
		res := e.result(t)
		if res.Outcome != operation.Completed || !strings.Contains(res.Message, string(resetEmail)) {
			t.Errorf("reset=%v: result = %+v", reset, res)
		}
		if len(e.changed) != 1 {
			t.Fatalf("reset=%v: NotifyPasswordChanged calls = %+v; want one", reset, e.changed)
		}
		got := e.changed[0]
		if got.Email != resetEmail || got.Reset != reset || got.Key != e.id || !got.When.Equal(at) {
			t.Errorf("reset=%v: NotifyPasswordChanged(%+v); want email %s, reset %v, key %s, when %v", reset, got, resetEmail, reset, e.id, at)
		}
		if len(e.resets) != 0 {
			t.Errorf("reset=%v: a reset link was sent", reset)
		}
	}
}

func promoteSelfInput() ContactInput {
	return ContactInput{SEN: sen, Role: licensing.Technical, Email: "bob@acme.test", By: Requester{Email: "bob@acme.test"}}
}

func TestPromoteSelf_PromotesAndTellsTheFormerPrimary(t *testing.T) {
	e := newAccountEnv(t, "promote-self/test")
	e.promoteOut = activities.PromoteContactOutput{Promoted: true, Former: "alice@acme.test"}
	e.ExecuteWorkflow(PromoteSelf, promoteSelfInput())
	res := e.result(t)
	if res.Outcome != operation.Completed || !strings.Contains(res.Message, "bob@acme.test") || !strings.Contains(res.Message, "alice@acme.test") {
		t.Fatalf("result = %+v; want completed, naming bob and alice", res)
	}
	if len(e.promoted) != 1 {
		t.Fatalf("PromoteContact calls = %+v; want one", e.promoted)
	}
	p := e.promoted[0]
	if p.SEN != sen || p.Role != licensing.Technical || p.Email != "bob@acme.test" ||
		p.By.Kind != "account" || p.By.ID != "bob@acme.test" || p.By.WorkflowID != e.id {
		t.Errorf("PromoteContact(%+v)", p)
	}
	if len(e.notified) != 1 {
		t.Fatalf("notified = %+v; want the former primary told once", e.notified)
	}
	n := e.notified[0]
	if n.Kind != activities.NotifyPromoted || n.To != "alice@acme.test" || n.NewEmail != "bob@acme.test" ||
		n.SEN != sen || n.Role != licensing.Technical || n.Key != e.id+"/"+e.runID+"/demoted" {
		t.Errorf("Notify(%+v)", n)
	}
	st := e.status(t)
	for _, s := range st.Steps {
		if s.State != operation.Done {
			t.Errorf("step %s = %s; want done", s.Key, s.State)
		}
	}
}

func TestPromoteSelf_AlreadyPrimaryChangesNothing(t *testing.T) {
	e := newAccountEnv(t, "promote-self/test")
	e.promoteOut = activities.PromoteContactOutput{Promoted: false}
	e.ExecuteWorkflow(PromoteSelf, promoteSelfInput())
	res := e.result(t)
	if res.Outcome != operation.Completed || !strings.Contains(res.Message, "nothing changed") {
		t.Fatalf("result = %+v; want completed with nothing changed", res)
	}
	if len(e.promoted) != 1 || len(e.notified) != 0 {
		t.Errorf("promoted %+v, notified %+v; want one attempt and no mail", e.promoted, e.notified)
	}
	st := e.status(t)
	if len(st.Steps) != 2 || st.Steps[0].State != operation.Done || st.Steps[1].State != operation.Skipped {
		t.Errorf("steps = %+v; want promote done, tell skipped", st.Steps)
	}
}

func TestPromoteSelf_DomainErrorEndsWithItsMessage(t *testing.T) {
	for _, code := range []licensing.Code{licensing.Forbidden, licensing.NotFound} {
		e := newAccountEnv(t, "promote-self/test")
		msg := "bob@acme.test is not a technical contact of SEN-1000001 (" + string(code) + ")"
		e.promoteErr = temporal.NewNonRetryableApplicationError(msg, string(code), nil)
		e.ExecuteWorkflow(PromoteSelf, promoteSelfInput())
		res := e.result(t)
		if res.Outcome != operation.Failure || res.Message != msg {
			t.Errorf("%s: result = %+v; want failure with %q", code, res, msg)
		}
		if len(e.promoted) != 1 || len(e.notified) != 0 {
			t.Errorf("%s: promoted %d times, notified %+v; want one attempt and no mail", code, len(e.promoted), e.notified)
		}
		if st := e.status(t); !st.Done || st.Outcome != operation.Failure || st.Steps[0].State != operation.Failed {
			t.Errorf("%s: status = %+v", code, st)
		}
	}
}

var captured = CardCaptured{SessionID: "cs_test_1", PaymentMethodID: "pm_test_1", LinkID: 42}

// The account page's card update: only the signed-in person, no mail; the
// provider's report is applied like any other.
func TestCardUpdate_ForAnAllowedPersonWaitsForTheirCardWithoutMail(t *testing.T) {
	e := newAccountEnv(t, operation.AccountCardUpdateID(sen, "bob@acme.test"))
	start := e.Now()
	var waiting []operation.Status
	e.RegisterDelayedCallback(func() {
		waiting = append(waiting, e.status(t))
		e.SignalWorkflow(CardCapturedSignal, captured)
	}, 2*time.Hour)
	e.ExecuteWorkflow(CardUpdate, CardUpdateInput{SEN: sen, By: Requester{Email: "bob@acme.test"}, For: "bob@acme.test"})
	res := e.result(t)
	if res.Outcome != operation.Completed || !strings.Contains(res.Message, "bob@acme.test") {
		t.Fatalf("result = %+v", res)
	}
	if len(e.sent) != 0 {
		t.Errorf("links were emailed: %+v", e.sent)
	}
	if len(e.planned) != 1 || e.planned[0].SEN != sen {
		t.Errorf("PlanCardUpdate calls = %+v", e.planned)
	}
	if len(waiting) != 1 || waiting[0].Done || waiting[0].Step != stepCardWait ||
		len(waiting[0].WaitingOn) != 1 || waiting[0].WaitingOn[0] != "bob@acme.test" {
		t.Errorf("status while waiting = %+v; want waiting on bob only", waiting)
	}
	want := activities.ApplyCardInput{SEN: sen, WorkflowID: e.id, SessionID: captured.SessionID, PaymentMethodID: captured.PaymentMethodID, LinkID: captured.LinkID}
	if len(e.applied) != 1 || e.applied[0] != want {
		t.Errorf("ApplyCard calls = %+v; want one %+v", e.applied, want)
	}
	if d := e.Now().Sub(start); d < 2*time.Hour || d > 2*time.Hour+time.Minute {
		t.Errorf("completed %v after the start; want when the card came, after 2h", d)
	}
	if len(e.revoked) != 1 || e.revoked[0].WorkflowID != e.id {
		t.Errorf("RevokeLinks calls = %+v", e.revoked)
	}
}

func TestCardUpdate_ForSomeoneNotAllowedFailsAtOnce(t *testing.T) {
	e := newAccountEnv(t, operation.AccountCardUpdateID(sen, "mallory@evil.test"))
	start := e.Now()
	e.RegisterDelayedCallback(func() { e.SignalWorkflow(CardCapturedSignal, captured) }, time.Hour)
	e.ExecuteWorkflow(CardUpdate, CardUpdateInput{SEN: sen, By: Requester{Email: "mallory@evil.test"}, For: "mallory@evil.test"})
	res := e.result(t)
	if res.Outcome != operation.Failure || !strings.Contains(res.Message, "mallory@evil.test") || !strings.Contains(res.Message, string(sen)) {
		t.Fatalf("result = %+v; want failure naming mallory and the licence", res)
	}
	if len(e.sent) != 0 || len(e.applied) != 0 {
		t.Errorf("sent %+v, applied %+v; want neither", e.sent, e.applied)
	}
	if d := e.Now().Sub(start); d >= time.Hour {
		t.Errorf("ended %v after the start; want at once, without waiting", d)
	}
	if st := e.status(t); !st.Done || st.Outcome != operation.Failure || st.Steps[0].State != operation.Failed {
		t.Errorf("status = %+v", st)
	}
}

// Without For (the Slack and billing path) everyone allowed is emailed a
// link, as before the account page.
func TestCardUpdate_WithoutForEmailsEveryoneAllowed(t *testing.T) {
	e := newAccountEnv(t, operation.CardUpdateID(sen))
	start := e.Now()
	e.RegisterDelayedCallback(func() { e.SignalWorkflow(CardCapturedSignal, captured) }, day)
	e.ExecuteWorkflow(CardUpdate, CardUpdateInput{SEN: sen, By: Requester{SlackUser: "U1", Channel: "C1"}})
	res := e.result(t)
	if res.Outcome != operation.Completed {
		t.Fatalf("result = %+v", res)
	}
	if len(e.sent) != 1 {
		t.Fatalf("SendLinks calls = %+v; want one", e.sent)
	}
	s := e.sent[0]
	if s.Purpose != licensing.PurposeCardUpdate || s.SEN != sen || s.WorkflowID != e.id ||
		!slices.Equal(s.To, e.recipients) || !s.Deadline.Equal(start.Add(7*day)) {
		t.Errorf("SendLinks(%+v); want card-update links to %v until %v", s, e.recipients, start.Add(7*day))
	}
	if len(e.applied) != 1 || e.applied[0].LinkID != captured.LinkID {
		t.Errorf("ApplyCard calls = %+v", e.applied)
	}
}

// A card saved on a past-due licence has the open invoice charged, and the
// card update says how that went, not how it should go: a declined new
// card is a failure with the reason, a paid invoice says paid.
func TestCardUpdate_SaysHowTheChargeItAskedForWent(t *testing.T) {
	for _, tc := range []struct {
		result  ChargeResult
		outcome operation.Outcome
		want    string
	}{
		{ChargeResult{Invoice: "INV-1", Paid: true}, operation.Completed, "Invoice INV-1 is paid."},
		{ChargeResult{Invoice: "INV-1", Reason: "Your card was declined."}, operation.Failure, "Charging invoice INV-1 with it failed: Your card was declined."},
	} {
		e := newAccountEnv(t, operation.CardUpdateID(sen))
		e.applyOut.Invoice = "INV-1"
		var signalled []CardUpdated
		e.OnSignalExternalWorkflow(mock.Anything, operation.InvoiceID("INV-1"), "", CardUpdatedSignal, mock.Anything).Return(
			func(_, _, _, _ string, arg any) error {
				signalled = append(signalled, arg.(CardUpdated))
				e.RegisterDelayedCallback(func() { e.SignalWorkflow(ChargeResultSignal, tc.result) }, 5*time.Second)
				return nil
			})
		e.RegisterDelayedCallback(func() { e.SignalWorkflow(CardCapturedSignal, captured) }, time.Hour)
		e.ExecuteWorkflow(CardUpdate, CardUpdateInput{SEN: sen, By: Requester{SlackUser: "U1", Channel: "C1"}})
		res := e.result(t)
		if res.Outcome != tc.outcome || !strings.Contains(res.Message, tc.want) || strings.Contains(res.Message, "being charged") {
			t.Errorf("result = %+v; want %s saying %q", res, tc.outcome, tc.want)
		}
		if len(signalled) != 1 || signalled[0].ReplyTo != e.id {
			t.Errorf("signals to the collection = %+v; want one asking for the result", signalled)
		}
		// The card was saved and made the default either way: only the
		// charge step carries the outcome.
		charge := operation.Done
		if tc.outcome != operation.Completed {
			charge = operation.Failed
		}
		want := map[string]operation.StepState{stepCardLinks: operation.Done, stepCardWait: operation.Done, stepCardApply: operation.Done, stepCardCharge: charge}
		for _, step := range e.status(t).Steps {
			if step.State != want[step.Key] {
				t.Errorf("%s: step %s is %s; want %s", tc.outcome, step.Key, step.State, want[step.Key])
			}
		}
	}
}

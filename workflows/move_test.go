package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"licensedesk/activities"
	"licensedesk/licensing"
	"licensedesk/operation"
)

const (
	day = 24 * time.Hour
	sen = licensing.SEN("SEN-1000001")
)

var movePlan = licensing.MovePlan{
	SEN: sen, NewEmail: "new@acme.test", From: "alice@acme.test",
	Roles: []licensing.Role{licensing.Billing, licensing.Technical}, ConfirmBy: []licensing.Email{"alice@acme.test"},
	Add:     []licensing.Role{licensing.Billing, licensing.Technical},
	Promote: []licensing.Role{licensing.Billing, licensing.Technical},
	Remove:  []licensing.Role{licensing.Billing, licensing.Technical},
}

// moveEnv is a test environment with every activity of a move mocked to
// succeed; tests override what they exercise and read back what ran.
type moveEnv struct {
	*testsuite.TestWorkflowEnvironment
	// What the mocked activities answer; tests change these before running.
	plan       licensing.MovePlan
	planErr    error
	primary    bool // CheckPrimary's answer
	removeErr  error
	withdrawn  []string // RemoveContact's answer: workflows whose links of the person went
	promoteOut activities.RedeemPromotionOutput
	promoteErr error

	slackErr error // what ReportProgress and PostThread answer

	sent     []activities.SendLinksInput
	sentAt   []time.Time // e.Now() when each SendLinks ran
	reports  int         // ReportProgress calls
	notified []activities.NotifyInput
	removed  []activities.RemoveContactInput
	moved    []activities.RecordMoveInput
	undone   []activities.UndoContactsInput
	revoked  int

	revokedFor []licensing.Email // RevokePersonLinks calls
	decisions  []activities.RedeemDecisionInput
	primaries  []activities.NotifyPrimariesInput
}

func newMoveEnv(t *testing.T) *moveEnv {
	e := &moveEnv{TestWorkflowEnvironment: newTestEnv(t), plan: movePlan,
		promoteOut: activities.RedeemPromotionOutput{Email: "new@acme.test", Roles: movePlan.Promote}}
	e.RegisterActivity(&activities.Activities{})
	e.OnActivity(a.PlanMove, mock.Anything, mock.Anything).Return(func(_ context.Context, _ activities.PlanMoveInput) (activities.PlanMoveOutput, error) {
		return activities.PlanMoveOutput{Plan: e.plan, Product: "Jira Software"}, e.planErr
	})
	e.OnActivity(a.SendLinks, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SendLinksInput) error {
		e.sent = append(e.sent, in)
		e.sentAt = append(e.sentAt, e.Now())
		return nil
	})
	e.OnActivity(a.EnsureContacts, mock.Anything, mock.Anything).Return(activities.EnsureContactsOutput{Added: movePlan.Add, AccountCreated: true, AccountPending: true}, nil)
	e.OnActivity(a.RedeemDecision, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RedeemDecisionInput) (activities.RedeemDecisionOutput, error) {
		e.decisions = append(e.decisions, in)
		if in.Purpose == licensing.PurposePromote { // a promotion link's Decline: its recipient's
			return activities.RedeemDecisionOutput{By: "new@acme.test"}, nil
		}
		return activities.RedeemDecisionOutput{By: "alice@acme.test"}, nil
	})
	e.OnActivity(a.RedeemPromotion, mock.Anything, mock.Anything).Return(func(_ context.Context, _ activities.RedeemPromotionInput) (activities.RedeemPromotionOutput, error) {
		return e.promoteOut, e.promoteErr
	})
	e.OnActivity(a.RemoveContact, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RemoveContactInput) (activities.RemoveContactOutput, error) {
		if e.removeErr != nil {
			return activities.RemoveContactOutput{}, e.removeErr
		}
		e.removed = append(e.removed, in)
		return activities.RemoveContactOutput{Removed: true, Withdrawn: e.withdrawn}, nil
	})
	e.OnActivity(a.RecordMove, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RecordMoveInput) error {
		e.moved = append(e.moved, in)
		return nil
	})
	e.OnActivity(a.UndoContacts, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.UndoContactsInput) (activities.UndoContactsOutput, error) {
		e.undone = append(e.undone, in)
		return activities.UndoContactsOutput{Removed: in.Roles}, nil
	})
	e.OnActivity(a.CheckPrimary, mock.Anything, mock.Anything).Return(func(_ context.Context, _ activities.CheckPrimaryInput) (activities.CheckPrimaryOutput, error) {
		return activities.CheckPrimaryOutput{AllPrimary: e.primary}, nil
	})
	e.OnActivity(a.Notify, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.NotifyInput) error {
		e.notified = append(e.notified, in)
		return nil
	})
	e.OnActivity(a.RevokeLinks, mock.Anything, mock.Anything).Return(func(_ context.Context, _ activities.RevokeLinksInput) error {
		e.revoked++
		return nil
	})
	e.OnActivity(a.ReportProgress, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ReportProgressInput) (activities.ReportProgressOutput, error) {
		e.reports++
		if e.slackErr != nil {
			return activities.ReportProgressOutput{}, e.slackErr
		}
		in.Ref.TS = "1700000000.000100"
		return activities.ReportProgressOutput{Ref: in.Ref}, nil
	})
	e.OnActivity(a.PostThread, mock.Anything, mock.Anything).Return(func(context.Context, activities.PostThreadInput) error { return e.slackErr })
	e.OnActivity(a.RevokePersonLinks, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RevokePersonLinksInput) error {
		e.revokedFor = append(e.revokedFor, in.Email)
		return nil
	})
	e.OnActivity(a.RecordResend, mock.Anything, mock.Anything).Return(nil)
	e.OnActivity(a.NotifyPrimaries, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.NotifyPrimariesInput) error {
		e.primaries = append(e.primaries, in)
		return nil
	})
	return e
}

func moveInput() MoveInput {
	return MoveInput{
		Request: licensing.MoveRequest{SEN: sen, NewEmail: "new@acme.test"},
		By:      Requester{SlackUser: "U1", Channel: "C1"},
	}
}

// update presses a link after d: the workflow's update handler runs.
func (e *moveEnv) update(t *testing.T, after time.Duration, name string, arg any) {
	e.RegisterDelayedCallback(func() {
		e.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("%s rejected: %v", name, err) },
			OnAccept:   func() {},
			OnComplete: func(any, error) {},
		}, arg)
	}, after)
}

func (e *moveEnv) result(t *testing.T) MoveResult {
	t.Helper()
	if !e.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var res MoveResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	return res
}

func (e *moveEnv) status(t *testing.T) operation.Status {
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

func TestMove_ApprovedAndPromotedCompletes(t *testing.T) {
	e := newMoveEnv(t)
	e.update(t, 2*time.Hour, DecideUpdate, DecideInput{TokenHash: []byte("c"), Approve: true})
	e.update(t, 26*time.Hour, PromoteUpdate, PromoteInput{TokenHash: []byte("p")})
	e.ExecuteWorkflow(Move, moveInput())

	res := e.result(t)
	if res.Outcome != operation.Completed {
		t.Fatalf("outcome = %s (%s)", res.Outcome, res.Message)
	}
	if len(e.sent) != 2 || e.sent[0].Purpose != licensing.PurposeConfirmMove || e.sent[1].Purpose != licensing.PurposePromote {
		t.Errorf("links sent = %+v; want a confirmation then a promotion link, no reminders", e.sent)
	}
	if len(e.removed) != 2 || e.removed[0].Email != "alice@acme.test" {
		t.Errorf("removed = %+v; want alice in both roles", e.removed)
	}
	if len(e.notified) != 2 || e.notified[0].Kind != activities.NotifyMoveCompleted {
		t.Errorf("notified = %+v; want both people told", e.notified)
	}
	if len(e.undone) != 0 {
		t.Errorf("undo ran on success: %+v", e.undone)
	}
	if len(e.moved) != 1 || e.moved[0].From != "alice@acme.test" || e.moved[0].To != moveInput().Request.NewEmail {
		t.Errorf("moves recorded = %+v; want one, from alice to the new contact", e.moved)
	}
	st := e.status(t)
	if !st.Done || st.Outcome != operation.Completed {
		t.Errorf("status = %+v", st)
	}
	for _, s := range st.Steps {
		if s.State != operation.Done {
			t.Errorf("step %s = %s; want done", s.Key, s.State)
		}
	}
}

func TestMove_KeepOldSkipsRemoval(t *testing.T) {
	e := newMoveEnv(t)
	e.plan.KeepOld, e.plan.Remove = true, nil
	e.update(t, time.Hour, DecideUpdate, DecideInput{Approve: true})
	e.update(t, 2*time.Hour, PromoteUpdate, PromoteInput{})
	in := moveInput()
	in.Request.KeepOld = true
	e.ExecuteWorkflow(Move, in)
	if res := e.result(t); res.Outcome != operation.Completed || len(e.removed) != 0 {
		t.Fatalf("outcome %s, removed %+v; want completed with nobody removed", res.Outcome, e.removed)
	}
}

func TestMove_DeclinedChangesNothing(t *testing.T) {
	e := newMoveEnv(t)
	e.update(t, time.Hour, DecideUpdate, DecideInput{Approve: false})
	e.ExecuteWorkflow(Move, moveInput())
	res := e.result(t)
	if res.Outcome != operation.Declined {
		t.Fatalf("outcome = %s", res.Outcome)
	}
	if len(e.undone) != 0 || len(e.removed) != 0 || e.revoked == 0 || len(e.moved) != 0 {
		t.Errorf("undone %v removed %v revoked %d; want nothing touched and links revoked", e.undone, e.removed, e.revoked)
	}
}

// The one asked to confirm is removed from the licence meanwhile (their
// links withdrawn; ContactRemove signals PersonLeft): the move ends then,
// not on day 14, changing nothing and saying how to ask again.
func TestMove_ConfirmerWhoLeftEndsTheMoveAtOnce(t *testing.T) {
	e := newMoveEnv(t)
	e.RegisterDelayedCallback(func() {
		e.SignalWorkflow(PersonLeftSignal, PersonLeft{SEN: sen, Email: "bob@acme.test"}) // someone else: it waits on
	}, time.Hour)
	e.RegisterDelayedCallback(func() {
		if st := e.status(t); st.Done {
			t.Error("the move ended when someone it does not wait on left")
		}
		e.SignalWorkflow(PersonLeftSignal, PersonLeft{SEN: sen, Email: "alice@acme.test"})
	}, 2*time.Hour)
	e.ExecuteWorkflow(Move, moveInput())
	res := e.result(t)
	if res.Outcome != operation.Failure || !strings.Contains(res.Message, "alice@acme.test, asked to confirm, no longer belongs to SEN-1000001; nothing was changed. Ask again") {
		t.Fatalf("result = %+v", res)
	}
	if e.Now().Sub(e.sent[0].Deadline) > -13*day || len(e.sent) != 1 {
		t.Errorf("ended at %v with %d mails; want soon after the 2nd hour, before any reminder", e.Now(), len(e.sent))
	}
	if len(e.undone) != 0 || len(e.removed) != 0 || e.revoked == 0 || len(e.moved) != 0 {
		t.Errorf("undone %v removed %v revoked %d; want nothing touched and links revoked", e.undone, e.removed, e.revoked)
	}
}

// The new contact is removed while the move waits for them to promote
// themselves: the move is called off as if they had declined.
func TestMove_NewContactWhoLeftCallsTheMoveOff(t *testing.T) {
	e := newMoveEnv(t)
	e.update(t, time.Hour, DecideUpdate, DecideInput{Approve: true})
	e.RegisterDelayedCallback(func() {
		e.SignalWorkflow(PersonLeftSignal, PersonLeft{SEN: sen, Email: "new@acme.test"})
	}, 2*day)
	e.ExecuteWorkflow(Move, moveInput())
	res := e.result(t)
	if res.Outcome != operation.Failure || !strings.Contains(res.Message, "new@acme.test was removed from SEN-1000001 before making themselves primary") {
		t.Fatalf("result = %+v", res)
	}
	if len(e.removed) != 0 {
		t.Errorf("the old contact was removed: %+v", e.removed)
	}
}

func TestMove_ConfirmationRemindsOnDay3AndExpiresOnDay14(t *testing.T) {
	e := newMoveEnv(t)
	var queried []operation.Status
	e.RegisterDelayedCallback(func() { queried = append(queried, e.status(t)) }, 4*day)
	e.ExecuteWorkflow(Move, moveInput())
	res := e.result(t)
	if res.Outcome != operation.Expired {
		t.Fatalf("outcome = %s", res.Outcome)
	}
	if len(e.sent) != 2 || e.sent[0].Reminder || !e.sent[1].Reminder {
		t.Fatalf("sent = %+v; want the links, then one reminder", e.sent)
	}
	if d := e.Now().Sub(e.sent[0].Deadline); d > time.Minute || d < -time.Minute {
		t.Errorf("expired at %v; deadline was %v", e.Now(), e.sent[0].Deadline)
	}
	if len(queried) != 1 || queried[0].Step != stepConfirm || len(queried[0].WaitingOn) != 1 || queried[0].WaitingOn[0] != "alice@acme.test" {
		t.Errorf("status on day 4 = %+v; want waiting on alice at the confirm step", queried)
	}
	if len(e.undone) != 0 {
		t.Error("nothing was added, yet undo ran")
	}
}

func TestMove_PromotionExpiryRemovesTheAddedContact(t *testing.T) {
	e := newMoveEnv(t)
	e.update(t, time.Hour, DecideUpdate, DecideInput{Approve: true})
	e.ExecuteWorkflow(Move, moveInput())
	res := e.result(t)
	if res.Outcome != operation.Expired {
		t.Fatalf("outcome = %s", res.Outcome)
	}
	if len(e.undone) != 1 || len(e.undone[0].Roles) != 2 || e.undone[0].Email != "new@acme.test" {
		t.Errorf("undone = %+v; want the two rows the move added", e.undone)
	}
	if len(e.removed) != 0 {
		t.Errorf("the old contact was removed: %+v", e.removed)
	}
	if last := e.notified[len(e.notified)-1]; last.Kind != activities.NotifyMoveCancelled || last.To != "new@acme.test" {
		t.Errorf("last mail = %+v; want the new person told the move ended", last)
	}
}

// TestMove_DeclinedPromotionCallsTheMoveOff (defect 2): the new contact
// presses Decline on their promotion link: the link is spent as declined,
// the move undoes like an expiry (the rows it added go, nobody is removed)
// and both the new and the old contact are told.
func TestMove_DeclinedPromotionCallsTheMoveOff(t *testing.T) {
	e := newMoveEnv(t)
	e.update(t, time.Hour, DecideUpdate, DecideInput{Approve: true})
	e.update(t, 30*time.Hour, DeclinePromotionUpdate, PromoteInput{TokenHash: []byte("p")})
	e.ExecuteWorkflow(Move, moveInput())
	res := e.result(t)
	if res.Outcome != operation.Declined || res.Message != "new@acme.test declined to become the primary contact, so the move was called off; the contact added for it was removed again and nothing else changed." {
		t.Fatalf("result = %+v", res)
	}
	if last := e.decisions[len(e.decisions)-1]; last.Purpose != licensing.PurposePromote || last.Approve || string(last.TokenHash) != "p" {
		t.Errorf("the promotion link was spent as %+v", last)
	}
	if len(e.undone) != 1 || e.undone[0].Email != "new@acme.test" || len(e.removed) != 0 {
		t.Errorf("undone %+v, removed %+v; want the added rows undone and nobody removed", e.undone, e.removed)
	}
	var told []licensing.Email
	for _, n := range e.notified {
		if n.Kind == activities.NotifyMoveCancelled {
			told = append(told, n.To)
		}
	}
	if len(told) != 2 || told[0] != "new@acme.test" || told[1] != "alice@acme.test" {
		t.Errorf("told the move ended: %v; want the new and the old contact", told)
	}
	// The promote link has nothing left to do: the confirmation's context
	// went into the promotion mail.
	if p := e.sent[len(e.sent)-1]; p.Purpose != licensing.PurposePromote || p.ApprovedBy != "alice@acme.test" || p.ApprovedAt.IsZero() || p.RequestedAt.IsZero() {
		t.Errorf("promotion link sent without who approved and when: %+v", p)
	}
}

// TestMove_DeclineOnlyWhileWaitingForThePromotion: a Decline pressed while
// the move still waits for its confirmation is refused.
func TestMove_DeclineOnlyWhileWaitingForThePromotion(t *testing.T) {
	e := newMoveEnv(t)
	var rejected error
	e.RegisterDelayedCallback(func() {
		e.UpdateWorkflow(DeclinePromotionUpdate, "", &testsuite_callback{onComplete: func(err error) { rejected = err }}, PromoteInput{})
	}, time.Hour)
	e.update(t, 2*time.Hour, DecideUpdate, DecideInput{Approve: true})
	e.update(t, 3*time.Hour, PromoteUpdate, PromoteInput{})
	e.ExecuteWorkflow(Move, moveInput())
	if res := e.result(t); res.Outcome != operation.Completed || rejected == nil {
		t.Fatalf("outcome %s, early decline error %v; want it refused and the move completed", res.Outcome, rejected)
	}
}

func TestMove_PromotionThatRacedTheTimerIsKept(t *testing.T) {
	e := newMoveEnv(t)
	e.primary = true
	e.update(t, time.Hour, DecideUpdate, DecideInput{Approve: true})
	e.ExecuteWorkflow(Move, moveInput())
	if res := e.result(t); res.Outcome != operation.Completed || len(e.undone) != 0 {
		t.Fatalf("outcome %s, undone %v; a promotion already in the database must not be undone", res.Outcome, e.undone)
	}
}

func TestMove_CancelWhileWaitingForPromotionUndoes(t *testing.T) {
	e := newMoveEnv(t)
	e.update(t, time.Hour, DecideUpdate, DecideInput{Approve: true})
	e.RegisterDelayedCallback(func() {
		e.SignalWorkflow(CancelReasonSignal, "<@U2>")
		e.CancelWorkflow()
	}, 2*day)
	e.ExecuteWorkflow(Move, moveInput())
	if !e.IsWorkflowCompleted() {
		t.Fatal("not completed")
	}
	var canceled *temporal.CanceledError
	if err := e.GetWorkflowError(); !errors.As(err, &canceled) {
		t.Fatalf("error = %v; want cancelled", err)
	}
	if len(e.undone) != 1 || e.revoked == 0 {
		t.Errorf("undone %v revoked %d; want the added rows removed and links revoked", e.undone, e.revoked)
	}
	st := e.status(t)
	if st.Outcome != operation.Cancelled || st.Message != "Cancelled by <@U2>." {
		t.Errorf("status = %+v", st)
	}
}

func TestMove_BadRequestEndsWithItsMessage(t *testing.T) {
	e := newMoveEnv(t)
	e.planErr = temporal.NewNonRetryableApplicationError("bob@acme.test is not a contact of SEN-1000001", string(licensing.NotFound), nil)
	e.ExecuteWorkflow(Move, moveInput())
	res := e.result(t)
	if res.Outcome != operation.Failure || res.Message != "bob@acme.test is not a contact of SEN-1000001" {
		t.Fatalf("result = %+v", res)
	}
	if len(e.sent) != 0 {
		t.Error("links were sent for a bad request")
	}
}

func TestMove_LinkPressedAtTheWrongStepIsRejected(t *testing.T) {
	e := newMoveEnv(t)
	rejected := false
	e.RegisterDelayedCallback(func() {
		e.UpdateWorkflow(PromoteUpdate, "", &testsuite.TestUpdateCallback{
			OnReject: func(error) { rejected = true }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, PromoteInput{})
	}, time.Hour)
	e.update(t, 2*time.Hour, DecideUpdate, DecideInput{Approve: false})
	e.ExecuteWorkflow(Move, moveInput())
	if !rejected {
		t.Error("a promotion during the confirmation step was accepted")
	}
}

// Slack being down (5xx) or refusing for good (channel_not_found) costs
// the progress message, never the operation: the confirmation mail goes
// out at once, the move completes, and a permanent error is not retried.
func TestMove_FailingSlackNeverHoldsTheMoveUp(t *testing.T) {
	for name, slackErr := range map[string]error{
		"transient": errors.New("slack chat.update: 503 Service Unavailable"),
		"permanent": temporal.NewNonRetryableApplicationError("slack chat.update: channel_not_found", "SlackPermanent", nil),
	} {
		t.Run(name, func(t *testing.T) {
			e := newMoveEnv(t)
			e.slackErr = slackErr
			start := e.Now()
			e.update(t, 2*time.Hour, DecideUpdate, DecideInput{TokenHash: []byte("c"), Approve: true})
			e.update(t, 26*time.Hour, PromoteUpdate, PromoteInput{TokenHash: []byte("p")})
			e.ExecuteWorkflow(Move, moveInput())
			if res := e.result(t); res.Outcome != operation.Completed {
				t.Fatalf("outcome = %s (%s)", res.Outcome, res.Message)
			}
			if len(e.sentAt) == 0 || e.sentAt[0].Sub(start) > time.Second {
				t.Errorf("the confirmation mail went out %v after the start; Slack must not delay it", e.sentAt[0].Sub(start))
			}
			if _, permanent := slackErr.(*temporal.ApplicationError); permanent && e.reports > 12 {
				t.Errorf("%d progress reports for a permanent error; each must be tried once", e.reports)
			}
		})
	}
}

// /license resend mails whoever the step waits on a fresh link under a
// fresh mail key, revoking their old one, at most once per person per 10
// minutes; it refuses someone the step does not wait on and an operation
// that has ended.
func TestResend_MailsAFreshLinkToWhoTheStepWaitsOn(t *testing.T) {
	e := newMoveEnv(t)
	type try struct {
		at time.Duration
		in ResendInput
	}
	var got []string
	for _, tr := range []try{
		{time.Hour, ResendInput{By: "U1"}},
		{time.Hour + 5*time.Minute, ResendInput{Email: "alice@acme.test", By: "U1"}},
		{time.Hour + 6*time.Minute, ResendInput{Email: "zed@other.test", By: "U1"}},
		{time.Hour + 11*time.Minute, ResendInput{Email: "alice@acme.test", By: "U2"}},
	} {
		e.RegisterDelayedCallback(func() {
			e.UpdateWorkflow(ResendUpdate, "", &testsuite.TestUpdateCallback{
				OnReject:   func(err error) { got = append(got, "rejected: "+err.Error()) },
				OnAccept:   func() {},
				OnComplete: func(_ any, err error) { got = append(got, fmt.Sprint("completed: ", err)) },
			}, tr.in)
		}, tr.at)
	}
	e.update(t, 2*time.Hour, DecideUpdate, DecideInput{TokenHash: []byte("c"), Approve: false})
	e.RegisterDelayedCallback(func() {
		e.UpdateWorkflow(ResendUpdate, "", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { got = append(got, "rejected: "+err.Error()) },
			OnAccept:   func() {},
			OnComplete: func(any, error) { got = append(got, "completed after the end") },
		}, ResendInput{By: "U1"})
	}, 3*time.Hour)
	e.ExecuteWorkflow(Move, moveInput())
	want := []string{"completed: <nil>", "another can be sent from", "does not wait on zed@other.test", "completed: <nil>"}
	if len(got) < len(want) {
		t.Fatalf("updates: %q", got)
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("update %d: %q; want %q", i, got[i], w)
		}
	}
	var fresh []activities.SendLinksInput
	for _, s := range e.sent {
		if strings.Contains(s.MailKey, "/resend/") {
			fresh = append(fresh, s)
		}
	}
	if len(fresh) != 2 || fresh[0].MailKey == fresh[1].MailKey || fresh[0].Purpose != e.sent[0].Purpose || len(fresh[0].To) != 1 {
		t.Errorf("fresh links %+v", fresh)
	}
	if len(e.revokedFor) != 2 || e.revokedFor[0] != "alice@acme.test" {
		t.Errorf("revoked %v", e.revokedFor)
	}
}

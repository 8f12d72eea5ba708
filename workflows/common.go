package workflows

import (
	"errors"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/licensing"
	"licensedesk/operation"
)

// a lets workflows name activities type-safely; it is never dereferenced.
var a *activities.Activities

// Requester is who started an operation and where to report on it.
type Requester struct {
	SlackUser string // Slack user id, empty when not from Slack
	Email     string // the customer, when started from the account page
	Channel   string // Slack channel for the progress message; empty = none
}

func (r Requester) String() string {
	if r.SlackUser != "" {
		return "<@" + r.SlackUser + ">"
	}
	return r.Email
}

// Timing is how long operations wait for people (SPEC §3: remind after 3
// days, give up after 14).
type Timing struct {
	Reminder time.Duration
	Expiry   time.Duration
}

func (t Timing) orDefault() Timing {
	if t.Reminder <= 0 {
		t.Reminder = 3 * 24 * time.Hour
	}
	if t.Expiry <= 0 {
		t.Expiry = 14 * 24 * time.Hour
	}
	return t
}

// withActivities applies the options every activity call uses: database and
// mail work is retried with backoff for up to an hour; domain errors are
// non-retryable and come back at once.
func withActivities(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
}

// withReporting is for Slack reports: best effort, a few tries only, so an
// unreachable Slack never holds an operation up.
func withReporting(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 20 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 5},
	})
}

// domainError turns an activity's non-retryable application error back into
// the *licensing.Error it came from; nil when err is something else.
func domainError(err error) *licensing.Error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() != "" {
		if code := licensing.Code(appErr.Type()); code != licensing.Internal {
			return &licensing.Error{Code: code, Message: appErr.Message()}
		}
	}
	return nil
}

// isCancel reports whether err (or ctx) says the workflow was cancelled.
func isCancel(ctx workflow.Context, err error) bool {
	return temporal.IsCanceledError(err) || errors.Is(ctx.Err(), workflow.ErrCanceled)
}

// tracker keeps an operation's status (what the status query answers),
// mirrors its step into the OperationStep search attribute, and keeps its
// Slack progress message up to date.
type tracker struct {
	st       operation.Status
	progress activities.ProgressRef
	cancelBy string
}

func newTracker(ctx workflow.Context, op string, sen licensing.SEN, summary string, by Requester, steps ...operation.Step) (*tracker, error) {
	info := workflow.GetInfo(ctx)
	t := &tracker{
		st: operation.Status{
			WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
			Operation: op, SEN: string(sen), Summary: summary, StartedBy: by.String(), Steps: steps,
		},
		progress: activities.ProgressRef{Channel: by.Channel},
	}
	for i := range t.st.Steps {
		t.st.Steps[i].State = operation.Pending
	}
	if err := workflow.SetQueryHandler(ctx, StatusQuery, func() (operation.Status, error) { return t.st, nil }); err != nil {
		return nil, err
	}
	cancelCh := workflow.GetSignalChannel(ctx, CancelReasonSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var by string
			cancelCh.Receive(ctx, &by)
			t.cancelBy = by
		}
	})
	return t, nil
}

func (t *tracker) set(key string, state operation.StepState) {
	for i := range t.st.Steps {
		if t.st.Steps[i].Key == key {
			t.st.Steps[i].State = state
		}
	}
}

// begin makes key the active step and reports it.
func (t *tracker) begin(ctx workflow.Context, key string) {
	t.st.Step = key
	t.st.WaitingOn, t.st.Deadline = nil, time.Time{}
	t.set(key, operation.Active)
	_ = workflow.UpsertTypedSearchAttributes(ctx, OperationStep.ValueSet(key))
	t.report(ctx)
}

// waiting records who the active step waits on, until when, and reports it.
func (t *tracker) waiting(ctx workflow.Context, on []licensing.Email, deadline time.Time) {
	t.st.WaitingOn = make([]string, len(on))
	for i, e := range on {
		t.st.WaitingOn[i] = string(e)
	}
	t.st.Deadline = deadline
	t.report(ctx)
}

// mailKey names one mail of this run (mail.Message.Key): the workflow ID
// and run ID, then what it is about. The same operation asked again is a
// new run of the same ID, so it mails afresh (the last run's links were
// revoked); an activity retried within one run still sends once.
func (t *tracker) mailKey(parts ...string) string {
	return t.st.WorkflowID + "/" + t.st.RunID + "/" + strings.Join(parts, "/")
}

func (t *tracker) done(key string)    { t.set(key, operation.Done) }
func (t *tracker) skipped(key string) { t.set(key, operation.Skipped) }

// end finishes the operation: the active step is marked as the outcome
// says, later steps are skipped, and the final state is reported.
func (t *tracker) end(ctx workflow.Context, outcome operation.Outcome, message string) {
	for i := range t.st.Steps {
		s := &t.st.Steps[i]
		switch {
		case s.State == operation.Active && outcome == operation.Completed:
			s.State = operation.Done
		case s.State == operation.Active:
			s.State = operation.Failed
		case s.State == operation.Pending:
			s.State = operation.Skipped
		}
	}
	t.st.Done, t.st.Outcome, t.st.Message = true, outcome, message
	t.st.WaitingOn, t.st.Deadline = nil, time.Time{}
	_ = workflow.UpsertTypedSearchAttributes(ctx, OperationStep.ValueSet(string(outcome)))
	t.report(ctx)
	t.note(ctx, message)
}

// report posts or updates the Slack progress message. Best effort.
func (t *tracker) report(ctx workflow.Context) {
	if t.progress.Channel == "" {
		return
	}
	var out activities.ReportProgressOutput
	err := workflow.ExecuteActivity(withReporting(ctx), a.ReportProgress,
		activities.ReportProgressInput{Ref: t.progress, Status: t.st}).Get(ctx, &out)
	if err != nil {
		workflow.GetLogger(ctx).Warn("progress report failed", "err", err)
		return
	}
	t.progress = out.Ref
}

// note adds a detail to the progress message's thread. Best effort.
func (t *tracker) note(ctx workflow.Context, text string) {
	if t.progress.Channel == "" || t.progress.TS == "" || text == "" {
		return
	}
	err := workflow.ExecuteActivity(withReporting(ctx), a.PostThread,
		activities.PostThreadInput{Ref: t.progress, Text: text}).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Warn("thread note failed", "err", err)
	}
}

// awaitPerson waits for cond, reminding once after timing.Reminder and
// giving up at timing.Expiry. It returns false on expiry.
func awaitPerson(ctx workflow.Context, timing Timing, deadline time.Time, cond func() bool, remind func(workflow.Context)) (bool, error) {
	ok, err := workflow.AwaitWithTimeout(ctx, timing.Reminder, cond)
	if err != nil || ok {
		return ok, err
	}
	remind(ctx)
	left := deadline.Sub(workflow.Now(ctx))
	if left <= 0 {
		return cond(), nil
	}
	return workflow.AwaitWithTimeout(ctx, left, cond)
}

// finishHandlers waits for running update handlers before the workflow
// returns, so no one pressing a link sees their update dropped.
func finishHandlers(ctx workflow.Context) {
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// emails converts to the keyword list the CustomerEmails attribute takes.
func emails(list ...licensing.Email) []string {
	seen := map[licensing.Email]bool{}
	var out []string
	for _, e := range list {
		if e != "" && !seen[e] {
			seen[e] = true
			out = append(out, string(e))
		}
	}
	return out
}

package workflows

import (
	"errors"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/operation"
)

// Business metrics the workflows count (docs/metrics.md), through the
// Temporal SDK's metrics handler, which the worker exports to Prometheus.
const (
	metricStarted  = "licensedesk_operations_started"  // kind
	metricFinished = "licensedesk_operations_finished" // kind, outcome
	metricCharges  = "licensedesk_charge_attempts"     // outcome
	// metricWebhooksDisabled counts endpoints disabled for failing.
	metricWebhooksDisabled = "licensedesk_webhook_endpoints_disabled_total"
)

// isCancel reports whether err (or ctx) says the workflow was cancelled.
func isCancel(ctx workflow.Context, err error) bool {
	return temporal.IsCanceledError(err) || errors.Is(ctx.Err(), workflow.ErrCanceled)
}

// tracker keeps an operation's status (what the status query answers),
// mirrors its step into the OperationStep search attribute, and keeps its
// Slack progress message up to date.
//
// Reporting to Slack never holds the operation up: a reporter coroutine
// beside the workflow posts the latest status and the thread notes in
// order, while the business steps go on. A failing Slack costs the report,
// not the operation; the next change of step tries again. (Runs started
// before this reported inline; they keep doing so.)
type tracker struct {
	st       operation.Status
	progress activities.ProgressRef
	cancelBy string

	async    bool     // report from the reporter coroutine
	reporter bool     // the reporter coroutine is running
	dirty    bool     // st changed since it was last reported
	notes    []string // thread notes not yet posted
	busy     bool     // a report or note is being sent

	links   *activities.SendLinksInput    // the last links mailed, for /license resend while a step waits
	resent  map[licensing.Email]time.Time // when each person was last sent a fresh link
	resends int                           // fresh links sent, for their mail keys

	left []licensing.Email // people who left the licence while this ran (PersonLeftSignal)
}

func newTracker(ctx workflow.Context, kind operation.Kind, sen licensing.SEN, summary string, by Requester, steps ...operation.Step) (*tracker, error) {
	info := workflow.GetInfo(ctx)
	t := &tracker{
		st: operation.Status{
			WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
			Operation: string(kind), SEN: string(sen), Summary: summary, StartedBy: by.String(), Steps: steps,
		},
		progress: activities.ProgressRef{Channel: by.Channel},
		resent:   map[licensing.Email]time.Time{},
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
			t.st.CancelRequestedBy = by // the status query shows it; no command changes
		}
	})
	t.listenForLeavers(ctx)
	if by.Channel != "" {
		t.async = workflow.GetVersion(ctx, "async-progress", workflow.DefaultVersion, 1) >= 1
	}
	if err := t.registerResend(ctx); err != nil {
		return nil, err
	}
	// The SDK's handler counts only what really happens, never a replay.
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"kind": string(kind)}).Counter(metricStarted).Inc(1)
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
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrOperationStep.ValueSet(key))
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
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"kind": t.st.Operation, "outcome": string(outcome)}).Counter(metricFinished).Inc(1)
	t.st.WaitingOn, t.st.Deadline = nil, time.Time{}
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrOperationStep.ValueSet(string(outcome)))
	t.report(ctx)
	t.note(ctx, message)
	t.flush(ctx)
}

// finish ends the operation with outcome and msg, which are its Result.
func (t *tracker) finish(ctx workflow.Context, outcome operation.Outcome, msg string) (Result, error) {
	t.end(ctx, outcome, msg)
	return Result{Outcome: outcome, Message: msg}, nil
}

// fail ends the operation on err: a domain error (the request cannot be
// done, say why) is a failure outcome with its message; anything else is
// returned for Temporal to show.
func (t *tracker) fail(ctx workflow.Context, err error) (Result, error) {
	if de := temporalerr.ToDomain(err); de != nil {
		return t.finish(ctx, operation.Failure, de.Message)
	}
	return Result{}, err
}

// report has the Slack progress message show the current status.
func (t *tracker) report(ctx workflow.Context) {
	if t.progress.Channel == "" {
		return
	}
	if !t.async {
		t.reportNow(ctx)
		return
	}
	t.dirty = true
	t.startReporter(ctx)
}

// note adds a detail to the progress message's thread.
func (t *tracker) note(ctx workflow.Context, text string) {
	if t.progress.Channel == "" || text == "" {
		return
	}
	if !t.async {
		t.noteNow(ctx, text)
		return
	}
	t.notes = append(t.notes, text)
	t.startReporter(ctx)
}

// startReporter starts the coroutine that sends reports and notes, on a
// disconnected context so a cancelled operation still reports its end.
func (t *tracker) startReporter(ctx workflow.Context) {
	if t.reporter {
		return
	}
	t.reporter = true
	rctx, _ := workflow.NewDisconnectedContext(ctx)
	workflow.Go(rctx, func(ctx workflow.Context) {
		for {
			if err := workflow.Await(ctx, func() bool { return t.dirty || len(t.notes) > 0 }); err != nil {
				return
			}
			t.busy = true
			if t.dirty {
				t.dirty = false
				t.reportNow(ctx)
			}
			// Notes go in the message's thread, so they wait for the message;
			// if it could not be posted, they are dropped (ops have the
			// workflow history).
			for len(t.notes) > 0 && !t.dirty {
				text := t.notes[0]
				t.notes = t.notes[1:]
				if t.progress.TS != "" {
					t.noteNow(ctx, text)
				}
			}
			t.busy = false
		}
	})
}

// flush waits, for a bounded time, until the last report and notes are
// sent: the workflow is about to return, and the reporter with it.
func (t *tracker) flush(ctx workflow.Context) {
	if !t.async || !t.reporter {
		return
	}
	_, _ = workflow.AwaitWithTimeout(ctx, reportFlushWait, func() bool { return !t.dirty && len(t.notes) == 0 && !t.busy })
}

// reportNow posts or updates the Slack progress message and waits for it.
// Best effort.
func (t *tracker) reportNow(ctx workflow.Context) {
	st := t.st
	st.Steps = append([]operation.Step(nil), t.st.Steps...)
	var out activities.ReportProgressOutput
	err := workflow.ExecuteActivity(withReporting(ctx), a.ReportProgress,
		activities.ReportProgressInput{Ref: t.progress, Status: st}).Get(ctx, &out)
	if err != nil {
		workflow.GetLogger(ctx).Warn("progress report failed", "err", err)
		return
	}
	t.progress = out.Ref
}

// noteNow posts a detail in the progress message's thread and waits for
// it. Best effort.
func (t *tracker) noteNow(ctx workflow.Context, text string) {
	if t.progress.TS == "" {
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

// revokeReason is why an operation's unused links end with it, by its
// outcome, as their page tells their recipients.
func revokeReason(o operation.Outcome) string {
	switch o {
	case operation.Completed:
		return activities.RevokedDone
	case operation.Declined:
		return activities.RevokedDeclined
	case operation.Expired:
		return activities.RevokedExpired
	case operation.Cancelled:
		return activities.RevokedCancelled
	}
	return activities.RevokedEnded
}

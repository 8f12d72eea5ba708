package temporalclient

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/workflows"
)

// launch is a workflow to start. Every start goes through Client.launch,
// which decides, in one place, the search attributes and what happens when
// a run with the same ID exists.
type launch struct {
	ID     string
	Kind   operation.Kind
	SEN    licensing.SEN     // "" for operations about no licence (password mails)
	People []licensing.Email // CustomerEmails until the workflow sets its own
	Fn     any               // the workflow function
	Arg    any               // its one input struct
	Memo   map[string]any    // shown in the Temporal UI: who started it

	// Join: a run in flight is the one wanted (billing: make sure it runs).
	// Otherwise a run in flight is reported as AlreadyRunning: the same
	// request twice never starts two operations.
	Join bool
	// Once: a closed run is never started again (a collection that gave up
	// is restarted by a person, not behind their back). Otherwise the same
	// request after the last run ended starts a new run.
	Once bool
}

// searchAttributes are what ops filter on from the start (SPEC §8); the
// workflow keeps OperationStep and CustomerEmails up to date afterwards.
func (l launch) searchAttributes() temporal.SearchAttributes {
	attrs := []temporal.SearchAttributeUpdate{
		workflows.AttrOperation.ValueSet(string(l.Kind)),
		workflows.AttrOperationStep.ValueSet("starting"),
	}
	if l.SEN != "" {
		attrs = append(attrs, workflows.AttrLicenseSEN.ValueSet(string(l.SEN)))
	}
	if len(l.People) > 0 {
		people := make([]string, len(l.People))
		for i, e := range l.People {
			people[i] = string(e)
		}
		attrs = append(attrs, workflows.AttrCustomerEmails.ValueSet(people))
	}
	return temporal.NewSearchAttributes(attrs...)
}

func (l launch) options(taskQueue string) client.StartWorkflowOptions {
	o := client.StartWorkflowOptions{
		ID:                    l.ID,
		TaskQueue:             taskQueue,
		TypedSearchAttributes: l.searchAttributes(),
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Memo:                  l.Memo,
	}
	if l.Once {
		o.WorkflowIDReusePolicy = enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	}
	if l.Join {
		o.WorkflowIDConflictPolicy = enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
	} else {
		o.WorkflowExecutionErrorWhenAlreadyStarted = true
	}
	return o
}

// launch starts l and says which run does the work. A run in flight that
// has already ended its operation (it is sending its last report) is given
// a moment to close, so the request asked again starts afresh.
func (c *Client) launch(ctx context.Context, l launch) (operation.Started, error) {
	opts := l.options(c.TaskQueue)
	run, err := c.Temporal.ExecuteWorkflow(ctx, opts, l.Fn, l.Arg)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) && !l.Once && c.finishing(ctx, l.ID, already.RunId) {
		run, err = c.Temporal.ExecuteWorkflow(ctx, opts, l.Fn, l.Arg)
	}
	if errors.As(err, &already) {
		return operation.Started{WorkflowID: l.ID, RunID: already.RunId, AlreadyRunning: true}, nil
	}
	if err != nil {
		return operation.Started{}, err
	}
	return operation.Started{WorkflowID: l.ID, RunID: run.GetRunID()}, nil
}

// finishingWait bounds how long a start waits for a run that has ended its
// operation to close.
const finishingWait = 1500 * time.Millisecond

// finishing reports whether the running run of id has already ended its
// operation (its status is done) and then closed within finishingWait.
func (c *Client) finishing(ctx context.Context, id, runID string) bool {
	st, err := c.Status(ctx, id)
	if err != nil || !st.Done {
		return false
	}
	wctx, cancel := context.WithTimeout(ctx, finishingWait)
	defer cancel()
	err = c.Temporal.GetWorkflow(wctx, id, runID).Get(wctx, nil)
	return wctx.Err() == nil && (err == nil || !errors.Is(err, context.DeadlineExceeded))
}

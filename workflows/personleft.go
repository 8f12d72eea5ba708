package workflows

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"licensedesk/licensing"
)

// PersonLeft is PersonLeftSignal's payload.
type PersonLeft struct {
	SEN   licensing.SEN
	Email licensing.Email
}

// listenForLeavers records every PersonLeft the workflow hears. It adds no
// command, so runs recorded before it replay unchanged.
func (t *tracker) listenForLeavers(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, PersonLeftSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var p PersonLeft
			ch.Receive(ctx, &p)
			if !slices.Contains(t.left, p.Email) {
				t.left = append(t.left, p.Email)
			}
		}
	})
}

// allLeft says whether every one of people has left the licence (false for
// nobody).
func (t *tracker) allLeft(people []licensing.Email) bool {
	if len(people) == 0 {
		return false
	}
	for _, p := range people {
		if !slices.Contains(t.left, p) {
			return false
		}
	}
	return true
}

// tellWithdrawn signals each workflow whose links a removal withdrew (but
// this one), best effort: one that has finished meanwhile has nobody to
// tell. Callers guard it with workflow.GetVersion.
func tellWithdrawn(ctx workflow.Context, self string, left PersonLeft, workflowIDs []string) {
	for _, id := range workflowIDs {
		if id == self || id == "" {
			continue
		}
		if err := workflow.SignalExternalWorkflow(ctx, id, "", PersonLeftSignal, left).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Info("a workflow whose links were withdrawn was not told", "workflow", id, "err", err)
		}
	}
}

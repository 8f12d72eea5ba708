package bot

import (
	"context"
	"fmt"

	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/slackout"
)

// CancelCommand is /license cancel <workflow-id>: it asks first, with
// buttons that say what they do ("Cancel the move" / "Keep it running").
// Pressed after the operation ended, or after someone already cancelled
// it, it says what happened instead of cancelling again.
func CancelCommand(ops Workflows) Command {
	return Command{
		Name: "cancel", Args: "<workflow-id>", Class: Act, Destructive: true, MinArgs: 1, MaxArgs: 1,
		Summary: "Cancel an operation in flight; what it already did is undone where it can be.",
		Verbs: func(req Request) (string, string) {
			kind, _ := operation.KindOf(req.Args[0])
			return slackout.CancelVerbs(kind)
		},
		Run: func(ctx context.Context, req Request) (Reply, error) {
			st, err := cancellableOp(ctx, ops, req.Args[0])
			if err != nil {
				return Reply{}, err
			}
			return ephemeral(fmt.Sprintf("*Cancel “%s”?* It is at step: %s. What it already did is undone where it can be.",
				escape(st.Summary), escape(st.Current().Title))), nil
		},
		Confirm: func(ctx context.Context, req Request) (Reply, error) {
			st, err := cancellableOp(ctx, ops, req.Args[0])
			if err != nil {
				return Reply{}, err
			}
			if err := ops.Cancel(ctx, st.WorkflowID, "<@"+req.UserID+">"); err != nil {
				return Reply{}, err
			}
			return ephemeral(fmt.Sprintf("Cancelling “%s”. Its progress message will say what was undone.", escape(st.Summary))), nil
		},
	}
}

// cancellableOp finds the running operation arg names, refusing kinds
// nobody may cancel (billing, collection) before anything else, and saying
// what happened to one that ended or is being cancelled already.
func cancellableOp(ctx context.Context, ops Workflows, arg string) (operation.Status, error) {
	id, err := workflowID(arg)
	if err != nil {
		return operation.Status{}, err
	}
	if kind, _ := operation.KindOf(id); !kind.Cancellable() {
		return operation.Status{}, errNotCancellable(id)
	}
	st, err := ops.Status(ctx, id)
	switch {
	case err != nil:
		return operation.Status{}, err
	case st.Done:
		return operation.Status{}, ended(st)
	case st.CancelRequestedBy != "":
		return operation.Status{}, licensing.Errorf(licensing.FailedPrecondition,
			"%s already asked to cancel “%s”; it is undoing what it did, and its progress message will say what was undone.", st.CancelRequestedBy, st.Summary)
	}
	return st, nil
}

// errNotCancellable is the refusal to cancel billing or a collection,
// which says how billing is stopped instead.
func errNotCancellable(workflowID string) error {
	return licensing.Errorf(licensing.FailedPrecondition,
		"%s can't be cancelled: billing and collection run for as long as the licence is billed. "+
			"To stop billing, cancel the licence; a past-due invoice is settled by a new card or `/license charge`.", workflowID)
}

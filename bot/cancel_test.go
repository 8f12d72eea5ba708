package bot

import (
	"context"
	"strings"
	"testing"

	"licensedesk/licensing"
	"licensedesk/operation"
)

// runningOps answers every status query with a running operation and
// records cancellations.
type runningOps struct {
	Workflows
	cancelled []string
}

func (o *runningOps) Status(_ context.Context, id string) (operation.Status, error) {
	return operation.Status{WorkflowID: id, Summary: "something of " + id, Step: "wait",
		Steps: []operation.Step{{Key: "wait", Title: "Wait", State: operation.Active}}}, nil
}

func (o *runningOps) Cancel(_ context.Context, id, _ string) error {
	o.cancelled = append(o.cancelled, id)
	return nil
}

// Billing and collections are not requests anyone made: /license cancel
// refuses them before offering a button, and says how billing stops.
func TestCancel_RefusesBillingAndCollection(t *testing.T) {
	ops := &runningOps{}
	var cancel Command
	for _, c := range OperationCommands(memLicenses{}, ops) {
		if c.Name == "cancel" {
			cancel = c
		}
	}
	for _, id := range []string{"billing/SEN-1000001", "invoice/SEN-1000003-2026-11-20"} {
		for name, f := range map[string]func(context.Context, Request) (Reply, error){"ask": cancel.Run, "confirm": cancel.Confirm} {
			_, err := f(context.Background(), Request{UserID: "U1", Args: []string{id}})
			if licensing.ErrorCode(err) != licensing.FailedPrecondition || !strings.Contains(licensing.ErrorMessage(err), "cancel the licence") {
				t.Errorf("%s %s: %v; want a refusal saying billing stops when the licence is cancelled", name, id, err)
			}
		}
	}
	if len(ops.cancelled) != 0 {
		t.Errorf("cancelled %v", ops.cancelled)
	}
	if _, err := cancel.Confirm(context.Background(), Request{UserID: "U1", Args: []string{"card/SEN-1000001"}}); err != nil || len(ops.cancelled) != 1 {
		t.Errorf("a card update is still cancellable: %v, %v", err, ops.cancelled)
	}
}

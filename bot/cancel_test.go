package bot

import (
	"context"
	"log/slog"
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

func (o *runningOps) URL(string, string) string { return "" }

// idleOps runs nothing: every status query finds no operation.
type idleOps struct{ runningOps }

func (o *idleOps) Status(_ context.Context, id string) (operation.Status, error) {
	return operation.Status{}, licensing.Errorf(licensing.NotFound, "No operation %s found.", id)
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

// TestMove_PreviewListsTheStepsInOrder (defect 7): the move's confirmation
// in Slack lists its steps in the order they happen and says the card stays.
func TestMove_PreviewListsTheStepsInOrder(t *testing.T) {
	var move Command
	for _, c := range OperationCommands(memLicenses{"SEN-1000001": cloudMonthly()}, &idleOps{}) {
		if c.Name == "move" {
			move = c
		}
	}
	reply, err := move.Run(context.Background(), Request{UserID: "U1", Args: []string{"SEN-1000001", "zoe@new.test"}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []string{"1. alice@acme.test confirms by emailed link", "2. zoe@new.test is added as billing and technical contact",
		"3. zoe@new.test makes themselves primary billing and technical contact by emailed link, or declines", "4. alice@acme.test is removed at the end",
		"The card on file (Visa ending 4242) stays on the licence and keeps paying after the move"}
	at := -1
	for _, s := range steps {
		i := strings.Index(reply.Text, s)
		if i <= at {
			t.Fatalf("%q missing or out of order in\n%s", s, reply.Text)
		}
		at = i
	}
}

// TestSlackCopy_ReadsLikeSentences (defect 10): counts agree with their
// noun, help names permissions rather than environment variables, and
// every error reply starts with a capital and ends with a full stop.
func TestSlackCopy_ReadsLikeSentences(t *testing.T) {
	one := statusListReply("SEN-1000001", []operation.Status{{WorkflowID: "move/SEN-1000001/x@y.test", Summary: "Move"}}, &runningOps{})
	two := statusListReply("SEN-1000001", []operation.Status{{Summary: "a"}, {Summary: "b"}}, &runningOps{})
	if one.Text != "1 operation in flight for SEN-1000001" || two.Text != "2 operations in flight for SEN-1000001" {
		t.Errorf("counts: %q, %q", one.Text, two.Text)
	}
	r := NewRegistry(ParseAllow("*", "*"), nil, slog.New(slog.DiscardHandler), append([]Command{ShowCommand(memLicenses{}, nil, 0)}, OperationCommands(memLicenses{"SEN-1000001": cloudMonthly()}, &idleOps{})...)...)
	for _, text := range []string{"help", "help move", "help show"} {
		if got := PlainText(r.Dispatch(context.Background(), Request{UserID: "U1", Text: text})); strings.Contains(got, "SLACK_") {
			t.Errorf("%q names a setting:\n%s", text, got)
		}
	}
	for _, text := range []string{"move SEN-1000001 x@acme.test --bogus", "move SEN-1000001 x@acme.test --from", "move SEN-1000001 x@acme.test --keep-old=yes"} {
		got := PlainText(r.Dispatch(context.Background(), Request{UserID: "U1", Text: text}))
		first, _, _ := strings.Cut(got, "\n")
		if first == "" || first[0] < 'A' || first[0] > 'Z' || !strings.HasSuffix(first, ".") {
			t.Errorf("%q → %q: want a sentence", text, first)
		}
	}
}

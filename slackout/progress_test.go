package slackout_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"licensedesk/operation"
	"licensedesk/slackout"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.* from the current output")

func waitingMove() operation.Status {
	return operation.Status{WorkflowID: "move/SEN-1000002/yan@globex2.test", RunID: "r1", Operation: "move", SEN: "SEN-1000002",
		Summary: "Move SEN-1000002 to yan@globex2.test", StartedBy: "<@U0LOCALDEV>", Step: "confirm",
		WaitingOn: []string{"dave@globex.test"}, Deadline: time.Date(2026, 12, 21, 19, 22, 0, 0, time.UTC),
		Steps: []operation.Step{{Key: "confirm", Title: "A contact confirms by email", State: operation.Active},
			{Key: "add", Title: "yan@globex2.test is added as billing contact", State: operation.Pending}}}
}

// The progress message (review #5, #25): while it waits, Resend link,
// Cancel… (asking first, in Block Kit's confirm dialog) and Show licence;
// cancelled, the mention stays a mention and the step it stopped at is not
// marked as refused.
func TestProgressBlocks_Golden(t *testing.T) {
	cancelled := waitingMove()
	cancelled.Done, cancelled.Outcome, cancelled.Message = true, operation.Cancelled, "Cancelled by <@U0LOCALDEV>."
	cancelled.WaitingOn, cancelled.Steps[0].State, cancelled.Steps[1].State = nil, operation.Failed, operation.Skipped
	for name, st := range map[string]operation.Status{"progress_waiting": waitingMove(), "progress_cancelled": cancelled} {
		blocks := slackout.ProgressBlocks(st, "http://temporal.test/wf")
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(blocks); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", name+".golden.json")
		if *update {
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s differs (go test ./slackout -run Golden -update)\n%s", path, buf.Bytes())
		}
	}
	raw, _ := json.Marshal(slackout.ProgressBlocks(cancelled, ""))
	done := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(raw))
	for _, bad := range []string{"&lt;@U0LOCALDEV&gt;", "✗", "Resend link", "Cancel…"} {
		if strings.Contains(done, bad) {
			t.Errorf("the cancelled message still has %q", bad)
		}
	}
	for _, want := range []string{"Cancelled by <@U0LOCALDEV>.", "■ A contact confirms by email (stopped here: cancelled)", "Show licence", "History"} {
		if !strings.Contains(done, want) {
			t.Errorf("the cancelled message lacks %q", want)
		}
	}
}

// A billing operation has no Cancel button: nobody may cancel it.
func TestNextSteps_NoCancelForBilling(t *testing.T) {
	st := operation.Status{WorkflowID: "invoice/SEN-1000003-2026-12-04", SEN: "SEN-1000003", Summary: "Collect"}
	for _, b := range slackout.NextSteps(st) {
		if b.Inv.Cmd == "cancel" {
			t.Errorf("billing offers %+v", b)
		}
	}
}

// Billing alerts (review #24) carry Show licence, and while money is owed,
// Send card links and Charge now, each asking first.
func TestBillingAlertBlocks(t *testing.T) {
	blocks := slackout.BillingAlertBlocks(":warning: Payment of USD 10.00 for SEN-1000003 failed: <card declined>", "SEN-1000003", true)
	raw, _ := json.Marshal(blocks)
	s := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(raw))
	for _, want := range []string{"&lt;card declined&gt;", `"text":"Show licence"`, `"action_id":"run:card"`, `"action_id":"run:charge"`, `"text":"Charge now?"`} {
		if !strings.Contains(s, want) {
			t.Errorf("alert lacks %s: %s", want, s)
		}
	}
	if paid, _ := json.Marshal(slackout.BillingAlertBlocks("paid", "SEN-1000003", false)); strings.Contains(string(paid), "charge") {
		t.Errorf("a paid alert offers to charge: %s", paid)
	}
}

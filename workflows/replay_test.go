package workflows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/payloadcodec"
)

// Histories recorded from real runs (RECORD_HISTORIES=1 go test
// ./cmd/licensedesk -run TestDev) must replay against today's workflow
// code: a change that would break runs in flight fails here. Such a change
// needs workflow.GetVersion.
func TestReplay_RecordedHistoriesStillReplay(t *testing.T) {
	// Top level: recorded from the code as it is; each subfolder keeps the
	// histories of an earlier version, as runs still in flight from it
	// look.
	files, err := filepath.Glob("testdata/histories/*.json")
	older, err2 := filepath.Glob("testdata/histories/*/*.json")
	files = append(files, older...)
	if err != nil || err2 != nil || len(files) == 0 {
		t.Fatalf("no recorded histories in testdata/histories (%v, %v)", err, err2)
	}
	r := replayer(t)
	for _, wf := range All {
		r.RegisterWorkflow(wf)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(f, "testdata/histories/"), ".json"), func(t *testing.T) {
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// replayer decodes payloads as the worker does: with the payload codec,
// holding the test keys the encrypted histories were recorded with (plain
// histories from before the codec pass through it unchanged).
func replayer(t *testing.T) worker.WorkflowReplayer {
	t.Helper()
	b, err := os.ReadFile("testdata/codec-test-keys.txt")
	if err != nil {
		t.Fatal(err)
	}
	codec, err := payloadcodec.ParseKeys(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
		DataConverter: payloadcodec.DataConverter(codec), FailureConverter: payloadcodec.FailureConverter(codec),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// brokenMove is Move with one extra activity up front: the kind of change
// that breaks runs in flight.
func brokenMove(ctx workflow.Context, in MoveInput) (MoveResult, error) {
	_ = workflow.ExecuteActivity(withActivities(ctx), a.LookupLicense, activities.LookupLicenseInput{SEN: in.Request.SEN}).Get(ctx, nil)
	return Move(ctx, in)
}

// TestReplay_CatchesAChangedWorkflow proves the replay test can fail.
func TestReplay_CatchesAChangedWorkflow(t *testing.T) {
	files, _ := filepath.Glob("testdata/histories/move-*.json")
	if len(files) == 0 {
		t.Fatal("no recorded move history")
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(brokenMove, workflow.RegisterOptions{Name: "Move"})
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, files[0]); err == nil {
		t.Fatal("a workflow with an extra activity replayed an old history without complaint")
	}
}

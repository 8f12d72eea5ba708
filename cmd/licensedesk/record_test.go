package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
)

// recordHistory saves a finished workflow's history for the replay tests in
// workflows/ when RECORD_HISTORIES is set: 1 into testdata/histories, a
// name into a folder of that name beside them (e.g. codec-aes256gcm).
// Histories are committed: they are what runs in flight look like to the
// next version of the code. They are saved as Temporal stores them,
// payloads encrypted with the test keys (recordingCodecKeys).
func recordHistory(t *testing.T, tc client.Client, workflowID, name string) {
	t.Helper()
	folder := os.Getenv("RECORD_HISTORIES")
	switch {
	case folder == "":
		return
	case folder == "1":
		folder = ""
	case !regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`).MatchString(folder):
		t.Fatalf("RECORD_HISTORIES=%q: want 1 or a folder name", folder)
	}
	it := tc.GetWorkflowHistory(context.Background(), workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "workflows", "testdata", "histories", folder)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %s (%d events)", path, len(h.Events))
}

// recordingCodecKeys are the payload keys dev runs with while histories are
// recorded: committed test keys, so the replay tests can decrypt them.
func recordingCodecKeys(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "workflows", "testdata", "codec-test-keys.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

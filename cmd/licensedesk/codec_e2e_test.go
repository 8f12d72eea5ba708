package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"licensedesk/bot"
	"licensedesk/internal/browsertest"
)

// rawHistory is a workflow's history as Temporal stores it (payloads as
// they were written), in the JSON the UI's download gives.
func rawHistory(t *testing.T, tc client.Client, id string) []byte {
	t.Helper()
	it := tc.GetWorkflowHistory(context.Background(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
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
	return b
}

var (
	workflowIDField = regexp.MustCompile(`"workflowId":\s*"[^"]*"`)
	anyEmail        = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
)

// Ops read a running move in dev's Temporal UI with its payloads decoded
// through the codec server (dev points the UI at it), while the history
// Temporal holds has no email but in the workflow ID, which carries one by
// design (SPEC §8). With LICENSEDESK_SCREENSHOTS set, the page is saved as
// temporal-ui-move-decoded.png and the raw history beside it.
func TestDev_TemporalUIDecodesAMoveThroughTheCodec(t *testing.T) {
	s := startDev(t)
	const newEmail = "new.owner@acme.test"
	id := "move/SEN-1000001/" + newEmail
	if got := bot.PlainText(s.press(t, s.slack(t, "move SEN-1000001 "+newEmail))); !strings.Contains(got, "started") {
		t.Fatalf("move: %s", got)
	}
	s.waitMail(t, "alice@acme.test", "Please confirm moving SEN-1000001")
	s.waitStatus(t, id, "confirm")

	raw := rawHistory(t, s.temporalClient(t), id)
	if !strings.Contains(string(raw), "YmluYXJ5L2VuY3J5cHRlZA==") { // "binary/encrypted"
		t.Error("the history holds no encrypted payload")
	}
	if found := anyEmail.FindAllString(workflowIDField.ReplaceAllString(string(raw), ""), -1); len(found) > 0 {
		t.Errorf("the raw history holds emails outside the workflow ID: %v", found)
	}

	ctx := browsertest.Start(t, 1440, 1100)
	page := "http://127.0.0.1:" + strconv.Itoa(s.uiPort) + "/namespaces/default/workflows/" + url.PathEscape(id)
	browsertest.Step(t, ctx, "open the move in the Temporal UI", chromedp.Navigate(page))
	// The input's field names are inside the encrypted payload: the page
	// shows them only once the codec server has decoded it.
	pollCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if _, err := chromedp.Run(pollCtx, chromedp.Poll[bool](`document.body.innerText.includes("NewEmail")`, chromedp.WithPollingInterval(500*time.Millisecond))); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("the UI never showed the decoded input: %v\n%.2000s", err, text)
	}
	browsertest.Step(t, ctx, "let the page settle", chromedp.Sleep(time.Second))
	browsertest.SaveScreenshot(t, ctx, "temporal-ui-move-decoded")
	if dir := os.Getenv("LICENSEDESK_SCREENSHOTS"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "temporal-ui-move-raw-history.json"), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

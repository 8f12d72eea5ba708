package main

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"licensedesk/bot"
	"licensedesk/devstack"
	"licensedesk/workflows"
)

// TestTemporalCluster_DevWithTemporalAddress: `dev` with TEMPORAL_ADDRESS
// naming the real cluster (devstack's TemporalCluster: four services on
// PostgreSQL) starts no server of its own and runs a move end to end on
// it, every click over HTTP, found afterwards by its search attributes in
// the cluster's SQL visibility. Like the devstack test, it needs the
// server built from temporal-server.mod: `make chaos` runs it.
func TestTemporalCluster_DevWithTemporalAddress(t *testing.T) {
	if os.Getenv("LICENSEDESK_TEMPORAL_CLUSTER") == "" {
		t.Skip("set LICENSEDESK_TEMPORAL_CLUSTER=1 to build and run the real Temporal server (make chaos does)")
	}
	if testing.Short() {
		t.Skip("starts PostgreSQL and a Temporal cluster")
	}
	tools, err := devstack.FindTemporalServer(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pg, err := devstack.StartPostgres(t.Context(), devstack.PostgresOptions{Dir: filepath.Join(dir, "postgres"), Fast: true, MaxConnections: 200})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop(context.Background()) })
	tc, err := devstack.StartTemporalCluster(t.Context(), devstack.TemporalClusterOptions{Tools: tools, Dir: filepath.Join(dir, "temporal"),
		PostgresURL: pg.URL("postgres"), SearchAttributes: workflows.SearchAttributeDefinitions, HistoryShards: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tc.Stop(context.Background()) })

	s := startDevWith(t, map[string]string{"TEMPORAL_ADDRESS": tc.Address()})
	// No dev server of its own: nothing listens on the port it would take.
	if conn, err := net.DialTimeout("tcp", s.temporalAddr(t), time.Second); err == nil {
		conn.Close()
		t.Errorf("dev started a Temporal server of its own at %s", s.temporalAddr(t))
	}
	const newEmail = "new.owner@acme.test"
	if started := bot.PlainText(s.press(t, s.slack(t, "move SEN-1000001 "+newEmail))); !strings.Contains(started, "started") {
		t.Fatalf("after Confirm: %s", started)
	}
	confirm := s.waitMail(t, "alice@acme.test", "Please confirm moving SEN-1000001")
	if code, page := follow(t, confirm.Links[0], url.Values{"decision": {"approve"}}); code != 200 {
		t.Fatalf("approve: %d\n%s", code, page)
	}
	promote := s.waitMail(t, newEmail, "Set up your account and take over SEN-1000001")
	if code, page := follow(t, promote.Links[0], url.Values{"display_name": {"New Owner"},
		"password": {"a long enough passphrase here"}, "password_confirm": {"a long enough passphrase here"}}); code != 200 {
		t.Fatalf("promote: %d\n%s", code, page)
	}
	s.waitMail(t, newEmail, "has moved to")

	c, err := client.Dial(client.Options{HostPort: tc.Address()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id := "move/SEN-1000001/" + newEmail
	for _, q := range []string{`LicenseSEN = "SEN-1000001" AND Operation = "move" AND ExecutionStatus = "Completed"`, `CustomerEmails = "` + newEmail + `"`} {
		var found bool
		for deadline := time.Now().Add(30 * time.Second); !found && time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
			resp, err := c.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{Query: q})
			if err != nil {
				t.Fatalf("visibility %s: %v", q, err)
			}
			for _, e := range resp.Executions {
				found = found || e.Execution.WorkflowId == id
			}
		}
		if !found {
			t.Errorf("visibility %s: %s not found on the cluster", q, id)
		}
	}
}

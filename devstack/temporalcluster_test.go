package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The real cluster needs the Temporal server built from temporal-server.mod
// (minutes on a cold build cache), so the unit run skips it; `make chaos`
// runs it first with LICENSEDESK_TEMPORAL_CLUSTER=1.
func needTemporalCluster(t *testing.T) TemporalServerTools {
	t.Helper()
	if os.Getenv("LICENSEDESK_TEMPORAL_CLUSTER") == "" {
		t.Skip("set LICENSEDESK_TEMPORAL_CLUSTER=1 to build and run the real Temporal server (make chaos does)")
	}
	if _, err := FindPostgres(); err != nil {
		t.Skip(err)
	}
	begin := time.Now()
	tools, err := FindTemporalServer(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("server and SQL tool found (or built) in %v", time.Since(begin).Round(time.Millisecond))
	return tools
}

// probeWorkflow upserts the search attributes it is given, waits for a
// signal (or an hour), and returns what the signal carried.
func probeWorkflow(ctx workflow.Context, sen string) (string, error) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, temporal.NewSearchAttributeKeyKeyword("LicenseSEN").ValueSet(sen),
		temporal.NewSearchAttributeKeyKeywordList("CustomerEmails").ValueSet([]string{"a@example.com"})); err != nil {
		return "", err
	}
	var got string
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(workflow.GetSignalChannel(ctx, "go"), func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &got) })
	sel.AddFuture(workflow.NewTimer(ctx, time.Hour), func(workflow.Future) { got = "timer" })
	sel.Select(ctx)
	ao := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ao, probeActivity, got).Get(ctx, &out)
	return out, err
}

func probeActivity(_ context.Context, s string) (string, error) { return "done: " + s, nil }

// TestTemporalCluster_RealServerOnPostgres starts the cluster on a schema an
// older server left (so the SQL tool has to upgrade it), runs a workflow
// with custom search attributes through history and matching being killed
// while it waits, finds it by a search attribute in the SQL visibility
// store, and starts the cluster again on the same databases.
func TestTemporalCluster_RealServerOnPostgres(t *testing.T) {
	tools := needTemporalCluster(t)
	dir := clusterDir(t)
	pg := startPostgres(t, dir)
	db, err := parsePostgresURL(pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	// An older install: the role, both databases at early schema versions.
	db.user, db.password = temporalRole, "older-install"
	if err := ensureTemporalRole(t.Context(), pg.URL("postgres"), db.password); err != nil {
		t.Fatal(err)
	}
	old := map[string]string{"temporal": "1.10", "temporal_visibility": "1.5"}
	for _, s := range temporalSchemas {
		for _, args := range [][]string{{"create-database"}, {"setup-schema", "-v", "0.0"}, {"update-schema", "--schema-name", s.schema, "-v", old[s.db]}} {
			if err := runSQLTool(t.Context(), tools.SQLTool, db, s.db, args...); err != nil {
				t.Fatal(err)
			}
		}
	}

	opts := TemporalClusterOptions{Tools: tools, Dir: filepath.Join(filepath.Dir(dir), "temporal"), PostgresURL: pg.URL("postgres"),
		SearchAttributes: []string{"LicenseSEN=Keyword", "CustomerEmails=KeywordList"}, HistoryShards: 2, Log: testLog{t}}
	c := startTemporalClusterT(t, opts)

	for _, s := range temporalSchemas {
		if v := schemaVersion(t, pg, s.db); v == old[s.db] || v == "" {
			t.Errorf("%s: schema version %q after start, want it upgraded from %s", s.db, v, old[s.db])
		}
	}
	pids := map[int]string{}
	for _, name := range TemporalServices {
		pid := c.Service(name).PID()
		if pid == 0 || pids[pid] != "" {
			t.Fatalf("%s: pid %d (services must be processes of their own: %v)", name, pid, pids)
		}
		pids[pid] = name
	}

	tc, err := client.Dial(client.Options{HostPort: c.Address(), Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	info, err := tc.WorkflowService().GetClusterInfo(t.Context(), &workflowservice.GetClusterInfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.PersistenceStore != "postgres12" || info.VisibilityStore != "postgres12" || info.HistoryShardCount != 2 {
		t.Errorf("cluster info: persistence %q, visibility %q, %d shards; want postgres12, postgres12, 2",
			info.PersistenceStore, info.VisibilityStore, info.HistoryShardCount)
	}

	w := worker.New(tc, "probe", worker.Options{})
	w.RegisterWorkflow(probeWorkflow)
	w.RegisterActivity(probeActivity)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run, err := tc.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: "probe/SEN-1", TaskQueue: "probe"}, probeWorkflow, "SEN-1")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the workflow found by LicenseSEN in visibility", func() error {
		return countIs(t.Context(), tc, `LicenseSEN = "SEN-1" AND CustomerEmails = "a@example.com" AND ExecutionStatus = "Running"`, 1)
	})
	for _, name := range []string{"history", "matching"} {
		begin := time.Now()
		if err := c.Restart(t.Context(), name); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s killed and serving again in %v", name, time.Since(begin).Round(time.Millisecond))
	}
	waitFor(t, "the signal delivered", func() error {
		return tc.SignalWorkflow(t.Context(), run.GetID(), "", "go", "after the kills")
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var out string
	if err := run.Get(ctx, &out); err != nil || out != "done: after the kills" {
		t.Fatalf("workflow: %q, %v", out, err)
	}
	w.Stop()

	// A second start on the same databases: no new schema, the namespace and
	// the attributes already there, the closed workflow still visible.
	tc.Close()
	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	c = startTemporalClusterT(t, opts)
	tc2, err := client.Dial(client.Options{HostPort: c.Address(), Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer tc2.Close()
	d, err := tc2.DescribeWorkflowExecution(t.Context(), "probe/SEN-1", "")
	if err != nil || d.WorkflowExecutionInfo.Status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Fatalf("after a restart of the cluster: %v, %v", d, err)
	}
	waitFor(t, "the completed workflow in visibility", func() error {
		return countIs(t.Context(), tc2, `LicenseSEN = "SEN-1" AND ExecutionStatus = "Completed"`, 1)
	})
}

func startTemporalClusterT(t *testing.T, opts TemporalClusterOptions) *TemporalCluster {
	t.Helper()
	begin := time.Now()
	c, err := StartTemporalCluster(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	t.Logf("cluster serving at %s in %v", c.Address(), time.Since(begin).Round(time.Millisecond))
	return c
}

func schemaVersion(t *testing.T, pg *Postgres, db string) string {
	t.Helper()
	conn := connect(t, strings.Replace(pg.URL("postgres"), "/postgres?", "/"+db+"?", 1))
	var v string
	if err := conn.QueryRow(t.Context(), `SELECT curr_version FROM schema_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func countIs(ctx context.Context, tc client.Client, query string, want int64) error {
	resp, err := tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
	if err != nil {
		return err
	}
	if resp.Count != want {
		return fmt.Errorf("%s: %d, want %d", query, resp.Count, want)
	}
	return nil
}

func waitFor(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, errors.Join(err, t.Context().Err()))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// testLog sends the services' output to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestTemporalServerMod_MatchesTheCLIs: the cluster's server is the
// version the pinned CLI's dev server embeds (tests on `dev` and the chaos
// run on `cluster` exercise the same server), and shares its build cache.
func TestTemporalServerMod_MatchesTheCLIs(t *testing.T) {
	root := RepositoryRoot()
	if root == "" {
		t.Fatal("no repository root")
	}
	versions := func(file string) map[string]string {
		b, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		v := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && strings.HasPrefix(f[1], "v") {
				v[f[0]] = f[1]
			}
		}
		return v
	}
	cli, server := versions("tools.mod"), versions("temporal-server.mod")
	if cli["go.temporal.io/server"] == "" || server["go.temporal.io/server"] != cli["go.temporal.io/server"] {
		t.Errorf("go.temporal.io/server: %q in temporal-server.mod, %q in tools.mod; want the same", server["go.temporal.io/server"], cli["go.temporal.io/server"])
	}
	for m, v := range server {
		if cv, ok := cli[m]; ok && cv != v {
			t.Errorf("%s: %s in temporal-server.mod, %s in tools.mod (the server would not share the CLI's build cache)", m, v, cv)
		}
	}
}

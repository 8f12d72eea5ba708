package validate

import (
	"errors"
	"os"
	"strings"
	"testing"
)

const dashboardFile = "../observability/dashboard.json"

func TestDashboard_EveryPanelQueriesListedMetrics(t *testing.T) {
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range CheckDashboard(data, catalogue(t)) {
		t.Error(err)
	}
}

func TestDashboard_BrokenDashboardFails(t *testing.T) {
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, old, new, want string }{
		{"a metric nobody exports", "max(licensedesk_invoices_past_due)", "max(licensedesk_invoices_overdue)", "metrics not in docs/metrics.md: licensedesk_invoices_overdue"},
		{"a Temporal name with a _seconds the SDK does not add", "rate(temporal_workflow_task_schedule_to_start_latency_sum", "rate(temporal_workflow_task_schedule_to_start_latency_seconds_sum", "temporal_workflow_task_schedule_to_start_latency_seconds_sum"},
		{"a PromQL syntax error", "sum by (kind) (rate(licensedesk_operations_started[$__rate_interval]))", "sum by (kind) (rate(licensedesk_operations_started[$__rate_interval])", "unclosed left parenthesis"},
		{"a bucket of a counter", "rate(licensedesk_operations_started[", "rate(licensedesk_operations_started_bucket[", "licensedesk_operations_started_bucket"},
		{"a variable nobody defined", `namespace=~\"$namespace\",task_queue`, `namespace=~\"$ns\",task_queue`, "variable $ns is not defined"},
		{"a duplicated panel id", `"id": 2,`, `"id": 1,`, "id already used"},
		{"panels on top of each other", `"x": 4,`, `"x": 0,`, "overlaps panel"},
		{"a hard-wired data source", "\"uid\": \"${datasource}\"\n      },\n      \"gridPos\"", "\"uid\": \"prometheus-prod\"\n      },\n      \"gridPos\"", "datasource must be the ${datasource} variable"},
		{"not JSON", `"panels": [`, `"panels": [,`, "not a dashboard"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(string(data), tc.old) {
				t.Fatalf("dashboard.json no longer contains %q: update this case", tc.old)
			}
			all := errors.Join(CheckDashboard([]byte(strings.Replace(string(data), tc.old, tc.new, 1)), catalogue(t))...)
			if all == nil {
				t.Fatalf("the broken copy passed; want an error containing %q", tc.want)
			}
			t.Log(all)
			if !strings.Contains(all.Error(), tc.want) {
				t.Fatalf("errors:\n%v\nwant one containing %q", all, tc.want)
			}
		})
	}
}

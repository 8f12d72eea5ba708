package validate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	metricsDoc = "../../docs/metrics.md"
	alertRules = "../observability/alerts.yml"
	alertTests = "../observability/alerts.test.yml"
)

func catalogue(t *testing.T) Catalogue {
	t.Helper()
	c, err := ReadCatalogue(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func runbookAnchors(t *testing.T) map[string]bool {
	t.Helper()
	a, err := RunbookAnchors("../../docs/runbook.md", "docs/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAlerts_EveryRuleReadsListedMetricsAndIsTestedBothWays(t *testing.T) {
	for _, err := range CheckAlerts(alertRules, alertTests, catalogue(t), runbookAnchors(t)) {
		t.Error(err)
	}
}

func TestAlerts_BrokenRulesFail(t *testing.T) {
	rules, err := os.ReadFile(alertRules)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, old, new, want string }{
		{"a metric nobody exports", "licensedesk_operations_overdue) > 0", "licensedesk_operations_late) > 0", "metrics not in docs/metrics.md: licensedesk_operations_late"},
		{"a doubled Temporal prefix", "temporal_num_pollers{poller_type=\"activity_task\"}) == 0", "temporal_temporal_num_pollers{poller_type=\"activity_task\"}) == 0", "temporal_temporal_num_pollers"},
		{"an alert without a test", "  - alert: LicenceSuspended", "  - alert: LicenceSuspendedNow", "no test case where LicenceSuspendedNow fires"},
		{"a severity nobody routes", "severity: info", "severity: low", `severity "low"`},
		{"a runbook section that does not exist", "docs/runbook.md#smtp-outage", "docs/runbook.md#mail-outage", `runbook "docs/runbook.md#mail-outage" names no section`},
		{"a PromQL syntax error", "max by (kind) (licensedesk_operations_overdue) > 0", "max by (kind) (licensedesk_operations_overdue > 0", "unclosed left parenthesis"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(string(rules), tc.old) {
				t.Fatalf("alerts.yml no longer contains %q: update this case", tc.old)
			}
			dst := filepath.Join(t.TempDir(), "alerts.yml")
			if err := os.WriteFile(dst, []byte(strings.Replace(string(rules), tc.old, tc.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			all := errors.Join(CheckAlerts(dst, alertTests, catalogue(t), runbookAnchors(t))...)
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

package validate

import (
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"sigs.k8s.io/yaml"
)

// Severities are the values of an alert's severity label (see the head of
// deploy/observability/alerts.yml).
var Severities = []string{"page", "ticket", "info"}

// ruleTests is the part of a `promtool test rules` file read here.
type ruleTests struct {
	RuleFiles []string `json:"rule_files"`
	Tests     []struct {
		Name          string `json:"name"`
		AlertRuleTest []struct {
			Alertname string `json:"alertname"`
			ExpAlerts []any  `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

// CheckAlerts checks what promtool does not: every alert reads only
// listed metrics, has a severity, a summary and a runbook section that
// exists, and has a test case where it fires and one where it stays quiet.
// anchors are the runbook's section anchors; nil skips that check.
func CheckAlerts(rulesFile, testsFile string, c Catalogue, anchors map[string]bool) []error {
	var errs []error
	groups, perrs := rulefmt.ParseFile(rulesFile, false, model.UTF8Validation, promql, slog.New(slog.DiscardHandler))
	if len(perrs) > 0 {
		return perrs
	}
	data, err := os.ReadFile(testsFile)
	if err != nil {
		return []error{err}
	}
	var tests ruleTests
	if err := yaml.Unmarshal(data, &tests); err != nil {
		return []error{fmt.Errorf("%s: %w", testsFile, err)}
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, t := range tests.Tests {
		for _, a := range t.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	alerts := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			id := fmt.Sprintf("%s: alert %s", rulesFile, r.Alert)
			alerts[r.Alert] = true
			if err := c.CheckExpr(r.Expr); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", id, err))
			}
			if !slices.Contains(Severities, r.Labels["severity"]) {
				errs = append(errs, fmt.Errorf("%s: severity %q, want one of %v", id, r.Labels["severity"], Severities))
			}
			if r.Annotations["summary"] == "" {
				errs = append(errs, fmt.Errorf("%s: no summary annotation", id))
			}
			if rb := r.Annotations["runbook"]; rb == "" {
				errs = append(errs, fmt.Errorf("%s: no runbook annotation", id))
			} else if anchors != nil && !anchors[rb] {
				errs = append(errs, fmt.Errorf("%s: runbook %q names no section of the runbook", id, rb))
			}
		}
	}
	for name := range alerts {
		if !fires[name] {
			errs = append(errs, fmt.Errorf("%s: no test case where %s fires", testsFile, name))
		}
		if !quiet[name] {
			errs = append(errs, fmt.Errorf("%s: no test case where %s stays quiet", testsFile, name))
		}
	}
	for name := range fires {
		if !alerts[name] {
			errs = append(errs, fmt.Errorf("%s: tests alert %s, which %s does not define", testsFile, name, rulesFile))
		}
	}
	return errs
}

package layers

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "licensedesk/"

// The front ends: Slack in (bot), HTTP (web), what emailed links do
// (links), and the binary (cmd).
var frontEnds = []string{"bot", "web", "links", "cmd"}

// Everything below them, which must never import them, directly or not.
var lower = []string{"licensing", "operation", "workflows", "activities", "postgres", "accounts",
	"temporalclient", "payments", "payments/sandbox", "payments/stripe", "mail", "slackout",
	"passwords", "config", "worker", "devstack", "history", "internal/bookgen", "payloadcodec"}

// The domain imports nothing of ours.
var leaves = map[string][]string{
	"licensing": nil,
	"operation": {"licensing"},
}

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module+pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pkg, err, out)
	}
	var ours []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, module) && p != module+pkg {
			ours = append(ours, strings.TrimPrefix(p, module))
		}
	}
	return ours
}

func TestImports_PointInwards(t *testing.T) {
	for _, pkg := range lower {
		for _, d := range deps(t, pkg) {
			for _, fe := range frontEnds {
				if d == fe || strings.HasPrefix(d, fe+"/") {
					t.Errorf("%s depends on the front end %s", pkg, d)
				}
			}
		}
	}
	for pkg, allowed := range leaves {
		for _, d := range deps(t, pkg) {
			ok := false
			for _, a := range allowed {
				ok = ok || d == a
			}
			if !ok {
				t.Errorf("%s may depend only on %v of ours, but depends on %s", pkg, allowed, d)
			}
		}
	}
	// Outgoing Slack never depends on the command handler.
	for _, d := range deps(t, "activities") {
		if d == "bot" {
			t.Error("activities depend on bot")
		}
	}
}

// Test helpers (packages named *test: postgrestest with its plan checks
// and book loading, pgtest, clocktest, ...) stay out of what ships: no
// other package's non-test code depends on one.
func TestImports_NoTestHelpersInProduction(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", module+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	isHelper := func(p string) bool {
		return strings.HasPrefix(p, module) && strings.HasSuffix(p[strings.LastIndex(p, "/")+1:], "test")
	}
	checked := 0
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) == 0 || isHelper(f[0]) {
			continue
		}
		checked++
		for _, d := range f[1:] {
			if isHelper(d) {
				t.Errorf("%s depends on the test helper %s", f[0], d)
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d packages checked", checked)
	}
}

package layers

import (
	"os/exec"
	"strings"
	"testing"
)

// L-8 (security review 2026-12-07): gorilla/websocket v1.5.3 makes
// WebSocket mask keys with math/rand (GO-2026-6278, GHSA-w67g-5rqw-f597);
// Slack's Socket Mode client uses it. Affected: before v1.5.1, and from
// v1.5.3 to before v1.5.4-0.20240701034025-d67f41855da4.
func TestDependencies_WebSocketPastGO20266278(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/gorilla/websocket").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	v := strings.TrimSpace(string(out))
	affected := v == "v1.5.3" || strings.HasPrefix(v, "v1.4.") || strings.HasPrefix(v, "v1.3.") || v == "v1.5.0" ||
		(strings.HasPrefix(v, "v1.5.4-0.") && v < "v1.5.4-0.20240701034025-d67f41855da4")
	if affected {
		t.Errorf("github.com/gorilla/websocket %s is affected by GO-2026-6278", v)
	}
}

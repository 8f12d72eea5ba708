package workflows

import (
	"testing"

	"go.temporal.io/sdk/testsuite"

	"licensedesk/internal/clock/clocktest"
)

// newTestEnv is a time-skipping workflow environment whose clock starts at
// the day the suite runs at (clocktest.Now: a fixed default, or
// LICENSEDESK_TEST_NOW), so no workflow test depends on today's date.
func newTestEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.SetStartTime(clocktest.Now(t))
	return e
}

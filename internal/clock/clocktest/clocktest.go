// Package clocktest pins the service clock in tests, and lets the whole
// suite run as if it were another day: with LICENSEDESK_TEST_NOW set (an
// RFC 3339 time, e.g. 2027-06-30T12:00:00Z) every test that seeds demo data
// or builds services through these helpers does so at that time instead of
// its own default. Only tests read the variable.
package clocktest

import (
	"os"
	"testing"
	"time"

	"licensedesk/internal/clock"
)

// Env names the variable that moves the tests' clock.
const Env = "LICENSEDESK_TEST_NOW"

// Default is the instant tests pin when they name none: the demo data's
// "today" in the recorded examples.
var Default = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// Now is the time a test runs at: LICENSEDESK_TEST_NOW when set, else Default.
func Now(tb testing.TB) time.Time {
	tb.Helper()
	v := os.Getenv(Env)
	if v == "" {
		return Default
	}
	at, err := time.Parse(time.RFC3339, v)
	if err != nil {
		tb.Fatalf("%s=%q: want an RFC 3339 time like 2027-06-30T12:00:00Z: %v", Env, v, err)
	}
	return at.UTC()
}

// Fixed is a clock stopped at Now(tb).
func Fixed(tb testing.TB) clock.Clock {
	tb.Helper()
	return clock.Fixed(Now(tb))
}

// Ticking is a clock that reads Now(tb) at once and keeps ticking: for
// tests where time must pass (sessions idle out, throttles decay).
func Ticking(tb testing.TB) clock.Clock {
	tb.Helper()
	return clock.Moved(Now(tb))
}

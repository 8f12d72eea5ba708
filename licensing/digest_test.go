package licensing

import "testing"

func TestExceptionFor_OnlyWhatNeedsAPerson(t *testing.T) {
	for _, tt := range []struct {
		name                  string
		paid, hard, suspended bool
		amount, large         int64
		want                  ExceptionKind
	}{
		{"paid", true, false, false, 1000, 100000, ""},
		{"paid, large", true, false, false, 900000, 100000, ""},
		{"soft decline", false, false, false, 1000, 100000, ""},
		{"hard decline", false, true, false, 1000, 100000, ExceptionHardDecline},
		{"suspended now", false, false, true, 1000, 100000, ExceptionSuspended},
		{"suspended on a hard decline", false, true, true, 1000, 100000, ExceptionSuspended},
		{"large soft decline", false, false, false, 100000, 100000, ExceptionLargeFailure},
		{"no threshold", false, false, false, 900000, 0, ""},
	} {
		got, ok := ExceptionFor(tt.paid, tt.hard, tt.suspended, tt.amount, tt.large)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, ok, tt.want)
		}
	}
}

package workflows

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseRetryPolicy(t *testing.T) {
	const day = 24 * time.Hour
	p, err := ParseRetryPolicy("1,3,7,14", "15")
	if err != nil || !reflect.DeepEqual(p, DefaultRetryPolicy) {
		t.Errorf("the defaults give %+v, %v; want DefaultRetryPolicy", p, err)
	}
	p, err = ParseRetryPolicy(" 2, 90 ", "100")
	if err != nil || !reflect.DeepEqual(p.Retries, []time.Duration{2 * day, 90 * day}) || p.SuspendAfter != 100*day || p.GiveUpAfter != 100*day {
		t.Errorf("2,90 / 100 → %+v, %v", p, err)
	}
	for _, c := range []struct{ retries, suspend, want string }{
		{"", "15", "BILLING_RETRY_DAYS"},
		{"1,x", "15", `"x" is not a number`},
		{"3,1", "15", "must increase"},
		{"1,1", "15", "must increase"},
		{"0", "15", "from 1 to 365"},
		{"1", "-2", "BILLING_SUSPEND_DAYS"},
		{"1", "400", "BILLING_SUSPEND_DAYS"},
	} {
		if _, err := ParseRetryPolicy(c.retries, c.suspend); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q / %q → %v; want an error about %s", c.retries, c.suspend, err, c.want)
		}
	}
}

package webhooks

import (
	"strconv"
	"strings"
	"time"
)

// RetryFor is how long a failing delivery is retried before its endpoint
// is disabled (nothing is dropped: re-enabled, it resumes from there).
const RetryFor = 72 * time.Hour

// Backoff is the wait before attempt n+1 after n failed ones: 10 s doubled
// each time up to 6 hours, spread by jitter (a fraction from 0 to 1, drawn
// at random by the caller) over ±25 %, so receivers coming back from an
// outage are not hit by every sender at once. Within RetryFor it makes
// about 20 attempts.
func Backoff(n int, jitter float64) time.Duration {
	const base, ceiling = 10 * time.Second, 6 * time.Hour
	d := base
	for i := 1; i < n && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	return time.Duration(float64(d) * (0.75 + 0.5*jitter))
}

// DeliveryID is the ID the delivery log gives attempt n.
func DeliveryID(n int64) string { return "dlv_" + strconv.FormatInt(n, 10) }

// ParseDeliveryID reads a DeliveryID back.
func ParseDeliveryID(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "dlv_"), 10, 64)
	return n, err == nil && n > 0 && strings.HasPrefix(s, "dlv_")
}

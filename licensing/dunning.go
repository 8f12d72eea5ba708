package licensing

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DunningSchedule is when a failed invoice is charged again, as offsets
// from its due date, when an unpaid licence is suspended, and when
// collection stops waiting (SPEC §2: 4 retries over 14 days, suspension
// 15 days after the due date). It travels inside workflow inputs
// (workflows.CollectInput.Policy), so its field names are wire format:
// never rename them.
type DunningSchedule struct {
	Retries      []time.Duration
	SuspendAfter time.Duration
	GiveUpAfter  time.Duration // stop waiting for a new card; the invoice stays open
}

const dunningDay = 24 * time.Hour

// DefaultDunning retries on days 1, 3, 7 and 14 after the due date,
// suspends on day 15 and gives up on day 60.
var DefaultDunning = DunningSchedule{
	Retries:      []time.Duration{1 * dunningDay, 3 * dunningDay, 7 * dunningDay, 14 * dunningDay},
	SuspendAfter: 15 * dunningDay,
	GiveUpAfter:  60 * dunningDay,
}

// ParseDunningSchedule reads BILLING_RETRY_DAYS ("1,3,7,14": retry that
// many days after the due date) and BILLING_SUSPEND_DAYS ("15");
// collection gives up waiting after DefaultDunning.GiveUpAfter, or later
// if the last retry or the suspension comes later.
func ParseDunningSchedule(retryDays, suspendDays string) (DunningSchedule, error) {
	var s DunningSchedule
	days := func(v string) (time.Duration, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 365 {
			return 0, fmt.Errorf("%q is not a number of days from 1 to 365", v)
		}
		return time.Duration(n) * dunningDay, nil
	}
	for _, f := range strings.Split(retryDays, ",") {
		d, err := days(f)
		if err != nil {
			return DunningSchedule{}, fmt.Errorf("BILLING_RETRY_DAYS: %w", err)
		}
		if len(s.Retries) > 0 && d <= s.Retries[len(s.Retries)-1] {
			return DunningSchedule{}, fmt.Errorf("BILLING_RETRY_DAYS: days must increase, %s does not", strings.TrimSpace(f))
		}
		s.Retries = append(s.Retries, d)
	}
	d, err := days(suspendDays)
	if err != nil {
		return DunningSchedule{}, fmt.Errorf("BILLING_SUSPEND_DAYS: %w", err)
	}
	s.SuspendAfter = d
	s.GiveUpAfter = max(DefaultDunning.GiveUpAfter, s.SuspendAfter, s.Retries[len(s.Retries)-1])
	return s, nil
}

// OrDefault is s, or DefaultDunning when s is unset (no retries and no
// suspension: a workflow input that carried none).
func (s DunningSchedule) OrDefault() DunningSchedule {
	if len(s.Retries) == 0 && s.SuspendAfter == 0 {
		return DefaultDunning
	}
	return s
}

// NextRetry is the first scheduled retry after now of an invoice due on
// due, or zero when none is left.
func (s DunningSchedule) NextRetry(now, due time.Time) time.Time {
	for _, r := range s.Retries {
		if at := due.Add(r); at.After(now) {
			return at
		}
	}
	return time.Time{}
}

// SuspendAt is when the licence of an invoice due on due is suspended if
// the invoice is still unpaid.
func (s DunningSchedule) SuspendAt(due time.Time) time.Time { return due.Add(s.SuspendAfter) }

// GiveUpAt is when collection of an invoice due on due stops waiting.
func (s DunningSchedule) GiveUpAt(due time.Time) time.Time { return due.Add(s.GiveUpAfter) }

// AfterFailure is what follows a failed attempt at now: the next retry
// (zero after a hard decline, which waits for a new card, and when the
// retries are used up) and whether the retries are exhausted, which
// suspends the licence at once.
func (s DunningSchedule) AfterFailure(now, due time.Time, hard bool) (next time.Time, exhausted bool) {
	if hard {
		return time.Time{}, false
	}
	next = s.NextRetry(now, due)
	return next, next.IsZero()
}

// Wake is when a collection waiting at now wakes up by itself: the next
// retry (none while a hard decline waits for a new card), the suspension
// unless the licence is suspended already, or giving up, whichever comes
// first. next is the retry it wakes for, zero if none.
func (s DunningSchedule) Wake(now, due time.Time, hard, suspended bool) (next, wake time.Time) {
	if !hard {
		next = s.NextRetry(now, due)
	}
	wake = s.GiveUpAt(due)
	if !next.IsZero() && next.Before(wake) {
		wake = next
	}
	if at := s.SuspendAt(due); !suspended && at.Before(wake) {
		wake = at
	}
	return next, wake
}

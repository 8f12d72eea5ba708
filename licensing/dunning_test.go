package licensing

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"licensedesk/internal/clock/clocktest"
)

const testDay = 24 * time.Hour

// dueDates are the due dates every schedule test runs against: today
// (whatever day the suite runs as) and the last day of this month, at
// midnight UTC like an invoice's due date.
func dueDates(t *testing.T) map[string]time.Time {
	now := clocktest.Now(t)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	monthEnd := time.Date(now.Year(), now.Month()+1, 0, 0, 0, 0, 0, time.UTC)
	return map[string]time.Time{"today": today, "month end": monthEnd}
}

func TestParseDunningSchedule(t *testing.T) {
	s, err := ParseDunningSchedule("1,3,7,14", "15")
	if err != nil || !reflect.DeepEqual(s, DefaultDunning) {
		t.Errorf("the defaults give %+v, %v; want DefaultDunning", s, err)
	}
	s, err = ParseDunningSchedule(" 2, 90 ", "100")
	if err != nil || !reflect.DeepEqual(s.Retries, []time.Duration{2 * testDay, 90 * testDay}) || s.SuspendAfter != 100*testDay || s.GiveUpAfter != 100*testDay {
		t.Errorf("2,90 / 100 → %+v, %v", s, err)
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
		if _, err := ParseDunningSchedule(c.retries, c.suspend); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q / %q → %v; want an error about %s", c.retries, c.suspend, err, c.want)
		}
	}
}

func TestDunningSchedule_OrDefault(t *testing.T) {
	if got := (DunningSchedule{}).OrDefault(); !reflect.DeepEqual(got, DefaultDunning) {
		t.Errorf("an unset schedule gives %+v; want DefaultDunning", got)
	}
	own := DunningSchedule{Retries: []time.Duration{testDay}, SuspendAfter: 2 * testDay, GiveUpAfter: 3 * testDay}
	if got := own.OrDefault(); !reflect.DeepEqual(got, own) {
		t.Errorf("a set schedule gives %+v; want it unchanged", got)
	}
}

// TestDunningSchedule_Retries walks the default schedule: after a soft
// decline at each moment, the next retry is days 1, 3, 7 and 14 after the
// due date, then none, and the licence is suspended at once.
func TestDunningSchedule_Retries(t *testing.T) {
	s := DefaultDunning
	for name, due := range dueDates(t) {
		for _, c := range []struct {
			at        time.Duration // when the attempt failed, after the due date
			next      int           // day of the next retry; 0 for none
			exhausted bool
		}{
			{0, 1, false},
			{time.Hour, 1, false},
			{testDay - time.Second, 1, false},
			{testDay, 3, false}, // the day-1 retry itself failed
			{3 * testDay, 7, false},
			{5 * testDay, 7, false},
			{7 * testDay, 14, false},
			{14 * testDay, 0, true}, // the last retry failed
			{20 * testDay, 0, true},
			{-2 * testDay, 1, false}, // charged before the due date
		} {
			next, exhausted := s.AfterFailure(due.Add(c.at), due, false)
			want := time.Time{}
			if c.next > 0 {
				want = due.Add(time.Duration(c.next) * testDay)
			}
			if !next.Equal(want) || exhausted != c.exhausted {
				t.Errorf("%s (%s): a soft decline %v after the due date → next %v, exhausted %v; want %v, %v",
					name, due.Format(time.DateOnly), c.at, next, exhausted, want, c.exhausted)
			}
			if got := s.NextRetry(due.Add(c.at), due); !got.Equal(want) {
				t.Errorf("%s: NextRetry %v after the due date = %v; want %v", name, c.at, got, want)
			}
		}
	}
}

// TestDunningSchedule_HardDecline: a hard decline schedules no retry and
// does not count as exhausted; it waits for a new card until suspension.
func TestDunningSchedule_HardDecline(t *testing.T) {
	s := DefaultDunning
	for name, due := range dueDates(t) {
		for _, at := range []time.Duration{0, 2 * testDay, 14 * testDay, 30 * testDay} {
			next, exhausted := s.AfterFailure(due.Add(at), due, true)
			if !next.IsZero() || exhausted {
				t.Errorf("%s: a hard decline %v after the due date → next %v, exhausted %v; want none, false", name, at, next, exhausted)
			}
		}
		next, wake := s.Wake(due.Add(2*testDay), due, true, false)
		if !next.IsZero() || !wake.Equal(due.Add(15*testDay)) {
			t.Errorf("%s: waiting for a new card wakes %v for %v; want the suspension on day 15 and no retry", name, wake, next)
		}
	}
}

// TestDunningSchedule_SuspensionAndGiveUp: the licence is suspended 15
// days after the due date and collection gives up after 60, on the
// calendar day those offsets fall (a month end included).
func TestDunningSchedule_SuspensionAndGiveUp(t *testing.T) {
	s := DefaultDunning
	for name, due := range dueDates(t) {
		if got, want := s.SuspendAt(due), due.AddDate(0, 0, 15); !got.Equal(want) {
			t.Errorf("%s: SuspendAt(%s) = %s; want %s", name, due.Format(time.DateOnly), got.Format(time.DateOnly), want.Format(time.DateOnly))
		}
		if got, want := s.GiveUpAt(due), due.AddDate(0, 0, 60); !got.Equal(want) {
			t.Errorf("%s: GiveUpAt(%s) = %s; want %s", name, due.Format(time.DateOnly), got.Format(time.DateOnly), want.Format(time.DateOnly))
		}
	}
	// The last day of a month: day 1 is the first of the next month.
	now := clocktest.Now(t)
	end := time.Date(now.Year(), now.Month()+1, 0, 0, 0, 0, 0, time.UTC)
	if next := s.NextRetry(end, end); next.Day() != 1 || next.Month() == end.Month() {
		t.Errorf("due on %s: the first retry is %s; want the 1st of the next month", end.Format(time.DateOnly), next.Format(time.DateOnly))
	}
}

// TestDunningSchedule_Wake: a waiting collection wakes for the next retry,
// else the suspension (unless suspended already), else giving up.
func TestDunningSchedule_Wake(t *testing.T) {
	s := DefaultDunning
	for name, due := range dueDates(t) {
		for _, c := range []struct {
			at              time.Duration
			hard, suspended bool
			next, wake      int // days after the due date; next 0 for none
		}{
			{time.Hour, false, false, 1, 1},
			{4 * testDay, false, false, 7, 7},
			{14 * testDay, false, false, 0, 15}, // retries out: suspension next
			{14 * testDay, false, true, 0, 60},  // suspended: only giving up is left
			{16 * testDay, false, false, 0, 15}, // suspension overdue: wake at once
			{2 * testDay, true, false, 0, 15},   // hard: no retry
			{2 * testDay, true, true, 0, 60},
		} {
			next, wake := s.Wake(due.Add(c.at), due, c.hard, c.suspended)
			wantNext := time.Time{}
			if c.next > 0 {
				wantNext = due.Add(time.Duration(c.next) * testDay)
			}
			if !next.Equal(wantNext) || !wake.Equal(due.Add(time.Duration(c.wake)*testDay)) {
				t.Errorf("%s: Wake at +%v hard=%v suspended=%v → next %v, wake %v; want day %d, day %d",
					name, c.at, c.hard, c.suspended, next, wake, c.next, c.wake)
			}
		}
	}
	// A schedule whose last retry comes after the suspension still wakes
	// for that retry after suspending.
	own, err := ParseDunningSchedule("1,20", "10")
	if err != nil {
		t.Fatal(err)
	}
	due := dueDates(t)["today"]
	if next, wake := own.Wake(due.Add(11*testDay), due, false, true); !next.Equal(due.Add(20*testDay)) || !wake.Equal(next) {
		t.Errorf("1,20 / 10 suspended on day 11 → next %v, wake %v; want day 20 for both", next, wake)
	}
}

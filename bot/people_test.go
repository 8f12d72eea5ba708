package bot

import (
	"context"
	"errors"
	"testing"
	"time"
)

type countedPeople struct {
	calls int
	err   error
}

func (c *countedPeople) Person(_ context.Context, id string) (Person, error) {
	c.calls++
	return Person{ID: id, DisplayName: "Sam"}, c.err
}

// users.info is asked once an hour per person, and after a failure once a
// minute, not once a command.
func TestPeopleCache_AsksOnceAnHourAndAfterAFailureOnceAMinute(t *testing.T) {
	now := time.Date(2026, 12, 7, 19, 22, 0, 0, time.UTC)
	inner := &countedPeople{}
	c := NewPeopleCache(inner, time.Hour, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if p, err := c.Person(context.Background(), "U1"); err != nil || p.DisplayName != "Sam" {
			t.Fatal(p, err)
		}
	}
	now = now.Add(61 * time.Minute)
	inner.err = errors.New("missing_scope")
	for i := 0; i < 3; i++ {
		if _, err := c.Person(context.Background(), "U1"); err == nil {
			t.Fatal("failure not reported")
		}
	}
	now = now.Add(2 * time.Minute)
	inner.err = nil
	if _, err := c.Person(context.Background(), "U1"); err != nil || inner.calls != 3 {
		t.Errorf("%v after %d calls; want 3 calls (first, failed, again a minute on)", err, inner.calls)
	}
}

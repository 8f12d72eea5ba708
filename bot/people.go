package bot

import (
	"context"
	"sync"
	"time"

	"licensedesk/internal/clock"
)

// PeopleCache remembers users.info answers for a while, so the display
// name of who asks costs one look-up an hour, well inside Slack's rate
// limits and its 3-second deadline.
type PeopleCache struct {
	inner People
	ttl   time.Duration
	now   clock.Clock

	mu      sync.Mutex
	entries map[string]personEntry
}

type personEntry struct {
	p       Person
	err     error // a failed look-up, remembered briefly
	fetched time.Time
}

// failedFor is how long a failed look-up is remembered: a workspace
// without the users:read scope, or Slack having a bad minute, costs one
// look-up (and one warning) a minute per person, not one per command.
const failedFor = time.Minute

// NewPeopleCache wraps inner, keeping each answer for ttl (the bot uses an
// hour). Failed look-ups are not cached.
func NewPeopleCache(inner People, ttl time.Duration, now clock.Clock) *PeopleCache {
	return &PeopleCache{inner: inner, ttl: ttl, now: now, entries: map[string]personEntry{}}
}

// Person implements People.
func (c *PeopleCache) Person(ctx context.Context, userID string) (Person, error) {
	c.mu.Lock()
	e, ok := c.entries[userID]
	c.mu.Unlock()
	switch {
	case ok && e.err != nil && c.now.Since(e.fetched) < failedFor:
		return Person{}, e.err
	case ok && e.err == nil && c.now.Since(e.fetched) < c.ttl:
		return e.p, nil
	}
	p, err := c.inner.Person(ctx, userID)
	if err != nil && ctx.Err() != nil {
		return Person{}, err // our own deadline, not Slack's answer
	}
	c.mu.Lock()
	c.entries[userID] = personEntry{p: p, err: err, fetched: c.now.Now()}
	c.mu.Unlock()
	return p, err
}

package bot

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
)

// Class is the permission a command needs.
type Class int

const (
	_    Class = iota // the zero value is invalid, so a command cannot forget its class
	Read              // look only: help, show, status
	Act               // change something; implies Read
)

func (c Class) String() string {
	switch c {
	case Read:
		return "read"
	case Act:
		return "act"
	}
	return "invalid"
}

// envName is the setting that grants c, named in refusals so the asker
// knows what to request.
func (c Class) envName() string {
	if c == Act {
		return "SLACK_ALLOW_ACT"
	}
	return "SLACK_ALLOW_READ"
}

// GroupMembers resolves a Slack user group (S…) to its members' user IDs.
type GroupMembers interface {
	Members(ctx context.Context, groupID string) ([]string, error)
}

// Allow says who may run which class of command.
type Allow struct {
	read, act principals
}

type principals struct {
	everyone bool
	users    []string
	groups   []string
}

// ParseAllow builds an Allow from the comma-separated SLACK_ALLOW_READ and
// SLACK_ALLOW_ACT values: user IDs (U…, W…), user-group IDs (S…) or * for
// everyone. Empty lists allow nobody.
func ParseAllow(read, act string) Allow {
	return Allow{read: parsePrincipals(read), act: parsePrincipals(act)}
}

func parsePrincipals(list string) principals {
	var p principals
	for _, id := range strings.Split(list, ",") {
		id = strings.ToUpper(strings.TrimSpace(id))
		switch {
		case id == "":
		case id == "*":
			p.everyone = true
		case strings.HasPrefix(id, "S"):
			p.groups = append(p.groups, id)
		default:
			p.users = append(p.users, id)
		}
	}
	return p
}

// permits reports whether userID may run commands of class c. Act implies
// Read. A group lookup error only matters when nothing else let the user in.
func (a Allow) permits(ctx context.Context, groups GroupMembers, userID string, c Class) (bool, error) {
	lists := []principals{a.act}
	if c == Read {
		lists = append(lists, a.read)
	} else if c != Act {
		return false, nil
	}
	for _, p := range lists {
		if p.everyone || slices.Contains(p.users, userID) {
			return true, nil
		}
	}
	var lookupErr error
	for _, p := range lists {
		if groups == nil {
			break
		}
		for _, g := range p.groups {
			members, err := groups.Members(ctx, g)
			if err != nil {
				lookupErr = errors.Join(lookupErr, err)
				continue
			}
			if slices.Contains(members, userID) {
				return true, nil
			}
		}
	}
	return false, lookupErr
}

// GroupCache remembers group memberships for a while, so permission checks
// stay well inside Slack's 3-second deadline and its rate limits.
type GroupCache struct {
	inner GroupMembers
	ttl   time.Duration
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]groupEntry
}

type groupEntry struct {
	members []string
	fetched time.Time
}

// NewGroupCache wraps inner, keeping each group's members for ttl (the bot
// uses 5 minutes). Failed lookups are not cached.
func NewGroupCache(inner GroupMembers, ttl time.Duration) *GroupCache {
	return &GroupCache{inner: inner, ttl: ttl, now: time.Now, entries: map[string]groupEntry{}} //clock:wall a cache's freshness
}

// Members implements GroupMembers.
func (c *GroupCache) Members(ctx context.Context, groupID string) ([]string, error) {
	c.mu.Lock()
	e, ok := c.entries[groupID]
	c.mu.Unlock()
	if ok && c.now().Sub(e.fetched) < c.ttl {
		return e.members, nil
	}
	// Fetched outside the lock: a slow lookup must not stall other groups.
	members, err := c.inner.Members(ctx, groupID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.entries[groupID] = groupEntry{members: members, fetched: c.now()}
	c.mu.Unlock()
	return members, nil
}

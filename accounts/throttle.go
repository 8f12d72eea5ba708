package accounts

import (
	"context"
	"net"
	"time"

	"licensedesk/licensing"
	"licensedesk/postgres"
	"licensedesk/web"
)

// Throttling of failed attempts, per key: "email:<address>" for sign-in
// (any email, with or without an account), "<kind>-addr:<ip>" per client
// address (IPv6 by /64, what one client usually holds), and
// "password-change:<id>" for wrong current passwords. See Options for the
// rule; the state lives in the auth_throttle table.

func emailKey(e licensing.Email) string { return "email:" + string(e) }

// addrKey names a client address for throttling. Addresses that do not
// parse are used as they are (bounded in length).
func addrKey(kind, addr string) string {
	if ip := net.ParseIP(addr); ip != nil {
		if ip4 := ip.To4(); ip4 != nil {
			addr = ip4.String()
		} else {
			addr = ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
		}
	}
	if len(addr) > 100 {
		addr = addr[:100]
	}
	return kind + "-addr:" + addr
}

// throttled returns *web.TooManyAttempts when any of keys is locked now.
func (s *Service) throttled(ctx context.Context, keys ...string) error {
	states, err := s.db.Throttles(ctx, keys...)
	if err != nil {
		return err
	}
	if wait := lockedFor(states, s.opt.Now()); wait > 0 {
		return &web.TooManyAttempts{RetryAfter: wait}
	}
	return nil
}

// fail records one failed attempt for key.
func (s *Service) fail(ctx context.Context, key string) error {
	now := s.opt.Now()
	_, err := s.db.RecordFailure(ctx, key, func(prev postgres.Throttle) postgres.Throttle {
		return s.opt.nextFailure(prev, now)
	})
	return err
}

// lockedFor returns how long the longest lock among states still lasts.
func lockedFor(states []postgres.Throttle, now time.Time) time.Duration {
	var wait time.Duration
	for _, t := range states {
		if d := t.LockedUntil.Sub(now); d > wait {
			wait = d
		}
	}
	return wait
}

// nextFailure is the throttling rule: the state after one more failure at
// now. The count starts again when the key has been quiet (no failure, no
// lock) for FailureWindow. From MaxFailures on, each failure locks the key
// for LockBase × 2^(failures − MaxFailures), at most LockCap. The lock is
// never longer than LockCap, and a key that is left alone is unlocked for
// good FailureWindow after that: nobody is locked out for ever.
func (o Options) nextFailure(prev postgres.Throttle, now time.Time) postgres.Throttle {
	quiet := prev.LastFailureAt
	if prev.LockedUntil.After(quiet) {
		quiet = prev.LockedUntil
	}
	n := prev.Failures
	if prev.LastFailureAt.IsZero() || now.Sub(quiet) >= o.FailureWindow {
		n = 0
	}
	n++
	next := postgres.Throttle{Key: prev.Key, Failures: n, LastFailureAt: now}
	if n >= o.MaxFailures {
		lock := o.LockCap
		if shift := n - o.MaxFailures; shift < 30 {
			lock = min(o.LockBase<<shift, o.LockCap)
		}
		next.LockedUntil = now.Add(lock)
	}
	return next
}

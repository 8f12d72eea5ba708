package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"strings"
	"time"

	"licensedesk/licensing"
	"licensedesk/postgres"
)

// Throttling of failed attempts, per key: "email:<address>" for sign-in
// (any email, with or without an account), "<kind>-addr:<ip>" per client
// address (IPv6 by /64, what one client usually holds), "signin-pair:<hash>"
// for one email from one address, "email-new:<address>" for the attempts a
// locked email lets through from new addresses, and "password-change:<id>"
// for wrong current passwords. Keys count failures by one rule
// (nextFailure); what a lock then does depends on the key:
//
//   - an address is never refused, only slowed: many people can share one
//     (an office, a carrier's NAT, a proxy whose X-Forwarded-For is not
//     trusted), and one of them must not lock the others out;
//   - an email refuses only the addresses that have failed on it lately
//     (its pair key is live); an attempt from any other address is checked
//     after a delay. So someone who keeps failing on a victim's email from
//     their own addresses cannot keep the victim, elsewhere, locked out;
//   - those new-address attempts are themselves limited, to
//     NewAddressesPerHour wrong passwords an hour (email-new, a rate rather
//     than a count: nextNewAddress), so that many addresses do not buy many
//     guesses; only an attacker who sustains more than that locks the
//     email for everyone;
//   - a pair, and a wrong current password, are refused while locked.
//
// The state lives in the auth_throttle table.

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

// isAddrKey says whether key names a client address (addrKey).
func isAddrKey(key string) bool {
	kind, _, _ := strings.Cut(key, ":")
	return strings.HasSuffix(kind, "-addr")
}

// newAddrKey names the attempts a locked email lets through from
// addresses that have not failed on it.
func newAddrKey(e licensing.Email) string { return "email-new:" + string(e) }

// pairKey names sign-ins to one email from one client address, hashed to
// keep the key short whatever the email's length.
func pairKey(e licensing.Email, addr string) string {
	sum := sha256.Sum256([]byte(string(e) + "\x00" + addrKey("signin", addr)))
	return "signin-pair:" + hex.EncodeToString(sum[:16])
}

// rule is how one attempt counts against one key.
type rule struct {
	key string
	// next is the key's state once the attempt is counted.
	next func(prev postgres.Throttle, now time.Time) postgres.Throttle
}

// failureRule counts an attempt as a failure of key (nextFailure).
func (s *Service) failureRule(key string) rule {
	return rule{key: key, next: s.opt.nextFailure}
}

// attempt decides and counts one attempt in one atomic step
// (postgres.CountAttempt): when a key that is not an address is locked it
// refuses with *TooManyAttempts and counts nothing; otherwise it counts the
// attempt on every key, then waits as long as the slowest locked address
// key asks (see slowFor), or until ctx ends. The attempt is counted before
// it is made: a parallel burst sees its own earlier attempts.
func (s *Service) attempt(ctx context.Context, rules ...rule) (counted, error) {
	now := s.opt.Now()
	keys := make([]string, len(rules))
	for i, r := range rules {
		keys[i] = r.key
	}
	var (
		wait time.Duration
		c    counted
	)
	err := s.db.CountAttempt(ctx, keys, func(prev map[string]postgres.Throttle) (map[string]postgres.Throttle, error) {
		var refuse time.Duration
		wait, c = 0, counted{}
		next := make(map[string]postgres.Throttle, len(rules))
		for _, r := range rules {
			t := prev[r.key]
			t.Key = r.key
			if isAddrKey(r.key) {
				wait = max(wait, s.opt.slowFor(t, now))
			} else {
				refuse = max(refuse, lockedFor(t, now))
			}
			n := r.next(t, now)
			n.Key = r.key
			next[r.key] = n
			c[r.key] = [2]postgres.Throttle{t, n}
		}
		if refuse > 0 {
			return nil, &TooManyAttempts{RetryAfter: refuse}
		}
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.opt.Sleep(ctx, wait); err != nil {
		_ = s.giveBack(context.WithoutCancel(ctx), c, keys...)
		return nil, err
	}
	return c, nil
}

// signInAttempt applies the sign-in rule (see above) to one attempt at
// email from addr, counted as a failure on the email, the address and the
// pair (and the new-address rate when it passes a lock on the email), in
// one atomic step, before any password is checked: it refuses, or waits.
// The caller gives back what a right password did not fail (signedIn). An
// unknown email is throttled exactly like a known one.
func (s *Service) signInAttempt(ctx context.Context, email licensing.Email, addr string) (counted, error) {
	account, address, pair, fresh := emailKey(email), addrKey("signin", addr), pairKey(email, addr), newAddrKey(email)
	now := s.opt.Now()
	var (
		wait time.Duration
		c    counted
	)
	err := s.db.CountAttempt(ctx, []string{account, address, pair, fresh}, func(byKey map[string]postgres.Throttle) (map[string]postgres.Throttle, error) {
		if d := lockedFor(byKey[pair], now); d > 0 {
			return nil, &TooManyAttempts{RetryAfter: d}
		}
		wait = s.opt.slowFor(byKey[address], now)
		newAddress := false
		if d := lockedFor(byKey[account], now); d > 0 {
			if p := byKey[pair]; s.opt.live(p, now) {
				// This address failed on this email lately: it waits for the
				// lock to end or for its own failures to be forgotten,
				// whichever comes first.
				return nil, &TooManyAttempts{RetryAfter: min(d, s.opt.forgottenAt(p).Sub(now))}
			}
			if d := lockedFor(byKey[fresh], now); d > 0 {
				return nil, &TooManyAttempts{RetryAfter: min(d, lockedFor(byKey[account], now))}
			}
			newAddress = true
			wait = max(wait, s.opt.slowFor(byKey[account], now))
		}
		next := map[string]postgres.Throttle{}
		for _, k := range []string{account, address, pair} {
			t := byKey[k]
			t.Key = k
			next[k] = s.opt.nextFailure(t, now)
		}
		if newAddress {
			t := byKey[fresh]
			t.Key = fresh
			next[fresh] = s.opt.nextNewAddress(t, now)
		}
		c = counted{}
		for k, n := range next {
			p := byKey[k]
			p.Key = k
			c[k] = [2]postgres.Throttle{p, n}
		}
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.opt.Sleep(ctx, wait); err != nil {
		_ = s.giveBack(context.WithoutCancel(ctx), c, account, address, pair)
		return nil, err
	}
	return c, nil
}

// counted is what an attempt counted: each key's state before and after.
type counted map[string][2]postgres.Throttle

// signedIn undoes what a right password counted: the email, the pair and
// the new-address rate are forgotten, and the address gets its attempt
// back.
func (s *Service) signedIn(ctx context.Context, c counted, email licensing.Email, addr string) error {
	for _, k := range []string{emailKey(email), pairKey(email, addr), newAddrKey(email)} {
		if err := s.db.ClearThrottle(ctx, k); err != nil {
			return err
		}
	}
	return s.giveBack(ctx, c, addrKey("signin", addr))
}

// giveBack returns the attempt c counted to each of keys: it was not a
// failure after all (a right password), or no password was checked (the
// client left, the hasher was busy). A key nothing else has counted on
// since is put back as it was; one that others counted on meanwhile loses
// one failure (and the lock, below MaxFailures).
func (s *Service) giveBack(ctx context.Context, c counted, keys ...string) error {
	for _, k := range keys {
		states, ok := c[k]
		if !ok {
			continue
		}
		_, err := s.db.RecordFailure(ctx, k, func(now postgres.Throttle) postgres.Throttle {
			if sameThrottle(now, states[1]) {
				return states[0]
			}
			if now.Failures <= 1 {
				return postgres.Throttle{Key: k}
			}
			now.Failures--
			if now.Failures < s.opt.MaxFailures {
				now.LockedUntil = time.Time{}
			}
			return now
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// sameThrottle compares states as stored (PostgreSQL keeps microseconds).
func sameThrottle(a, b postgres.Throttle) bool {
	return a.Failures == b.Failures && a.LastFailureAt.Truncate(time.Microsecond).Equal(b.LastFailureAt.Truncate(time.Microsecond)) &&
		a.LockedUntil.Truncate(time.Microsecond).Equal(b.LockedUntil.Truncate(time.Microsecond))
}

// nextNewAddress is the rate rule of newAddrKey, a leaky bucket that holds
// NewAddressesPerHour wrong passwords and empties at that rate: each adds
// an hour/NewAddressesPerHour to the time the bucket would be empty (kept
// in LastFailureAt, which may lie ahead), and while that is more than an
// hour ahead the key is locked. Someone who stays under the rate is never
// locked; someone above it gets no more than the rate.
func (o Options) nextNewAddress(prev postgres.Throttle, now time.Time) postgres.Throttle {
	return rate(o.NewAddressesPerHour, time.Hour)(prev, now)
}

// rate is a leaky-bucket rule: the bucket holds n attempts and empties at
// n per window; each attempt adds window/n to the time it would be empty
// (kept in LastFailureAt, which may lie ahead), and while another would
// take that past a window ahead the key is locked. Under the rate, never
// locked; above it, no more than the rate gets through.
func rate(n int, window time.Duration) func(prev postgres.Throttle, now time.Time) postgres.Throttle {
	step := window / time.Duration(max(n, 1))
	return func(prev postgres.Throttle, now time.Time) postgres.Throttle {
		empty := prev.LastFailureAt
		if prev.Failures == 0 || empty.Before(now) {
			empty = now
		}
		empty = empty.Add(step)
		next := postgres.Throttle{Key: prev.Key, Failures: prev.Failures + 1, LastFailureAt: empty}
		// Locked while the bucket has no room for one more.
		if wait := empty.Sub(now) - window + step; wait > 0 {
			next.LockedUntil = now.Add(wait)
		}
		return next
	}
}

// lockedFor returns how long t's lock still lasts (0: not locked; the zero
// Throttle is not locked).
func lockedFor(t postgres.Throttle, now time.Time) time.Duration {
	return max(t.LockedUntil.Sub(now), 0)
}

// quietSince is when t last changed: its last failure, or the end of its
// lock if that is later.
func quietSince(t postgres.Throttle) time.Time {
	if t.LockedUntil.After(t.LastFailureAt) {
		return t.LockedUntil
	}
	return t.LastFailureAt
}

// forgottenAt is when t's count starts again from zero if nothing happens.
func (o Options) forgottenAt(t postgres.Throttle) time.Time {
	return quietSince(t).Add(o.FailureWindow)
}

// live says whether t still counts: it has failures, and is not yet
// forgotten.
func (o Options) live(t postgres.Throttle, now time.Time) bool {
	return t.Failures > 0 && now.Before(o.forgottenAt(t))
}

// slowFor is the delay that stands in for a lock where a key is slowed
// rather than refused: SlowBase for a lock of LockBase, in proportion for
// longer ones, at most SlowCap (with the defaults a lock of 1, 2, 4, 8 or
// 15 minutes becomes 1, 2, 4, 8 or 10 seconds). 0 when t is not locked.
func (o Options) slowFor(t postgres.Throttle, now time.Time) time.Duration {
	if lockedFor(t, now) == 0 {
		return 0
	}
	lock := t.LockedUntil.Sub(t.LastFailureAt)
	return min(time.Duration(float64(o.SlowBase)*float64(lock)/float64(o.LockBase)), o.SlowCap)
}

// nextFailure is the throttling rule: the state after one more failure at
// now. The count starts again when the key has been quiet (no failure, no
// lock) for FailureWindow. From MaxFailures on, each failure locks the key
// for LockBase × 2^(failures − MaxFailures), at most LockCap. The lock is
// never longer than LockCap, and a key that is left alone is unlocked for
// good FailureWindow after that: nobody is locked out for ever by a key of
// their own, and an email's lock (which an attacker can keep renewing)
// never refuses an address that has not failed on it.
func (o Options) nextFailure(prev postgres.Throttle, now time.Time) postgres.Throttle {
	n := prev.Failures
	if !o.live(prev, now) {
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

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"licensedesk/accounts"
	"licensedesk/passwords"
)

// Sleep is the clock's stand-in for waiting: it moves the clock on by d.
func (c *clock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
		c.slept = append(c.slept, d)
	}
	return nil
}

// takeSlept returns what was slept since the last call.
func (c *clock) takeSlept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.slept
	c.slept = nil
	return s
}

// accountLocked says whether the email's own throttle key is locked now.
func (e *env) accountLocked(t *testing.T, email string) bool {
	t.Helper()
	states, err := e.db.Throttles(context.Background(), "email:"+email)
	if err != nil {
		t.Fatal(err)
	}
	return len(states) == 1 && states[0].LockedUntil.After(e.clock.Now())
}

// TestSignIn_AnAttackerCannotKeepAnAccountLocked: someone who keeps
// sending wrong passwords for alice from a few addresses of their own (one
// address alone is held back by its own pair lock, and would not even keep
// the account locked) — one every 14 minutes, one each time they are told
// the lock has ended, or one a minute — for a day. Whenever the account is locked against them, alice, from
// her address, still signs in with her password, after at most a short
// delay; a mistyped password of her own shuts her out only until that
// failure is forgotten (at most 15 minutes). The attacker's guesses stay
// at about four an hour per address.
func TestSignIn_AnAttackerCannotKeepAnAccountLocked(t *testing.T) {
	const (
		victim = "alice@acme.test"
		hers   = "198.51.100.20"
	)
	attackers := []string{"203.0.113.66", "203.0.113.67", "203.0.113.68"}
	for _, strategy := range []string{"every 14 minutes", "when the lock ends", "every minute"} {
		t.Run(strategy, func(t *testing.T) {
			e := newEnv(t, accounts.Options{})
			start := e.clock.Now()
			checked, refused := 0, 0
			var retryAfter time.Duration
			attack := func() { // waits as the strategy says, then guesses
				switch strategy {
				case "every 14 minutes":
					e.clock.Add(14 * time.Minute)
				case "every minute":
					e.clock.Add(time.Minute)
				default:
					e.clock.Add(retryAfter)
				}
				from := attackers[(checked+refused)%len(attackers)]
				_, err := e.signIn(victim, fmt.Sprintf("wrong guess number %d", checked), from)
				var tm *accounts.TooManyAttempts
				retryAfter = 0
				switch {
				case errors.As(err, &tm):
					refused++
					retryAfter = tm.RetryAfter
				case code(err) == "invalid":
					checked++
				default:
					t.Fatalf("attacker's guess: %v", err)
				}
			}
			// lockedAgainstAttacker goes on attacking until the account is locked.
			lockedAgainstAttacker := func() {
				for i := 0; !e.accountLocked(t, victim); i++ {
					if i == 500 {
						t.Fatalf("the account is not locked after %d more attempts", i)
					}
					attack()
				}
				e.clock.takeSlept()
			}
			for _, hour := range []int{3, 6, 12, 24} {
				for e.clock.Now().Before(start.Add(time.Duration(hour) * time.Hour)) {
					attack()
				}
				lockedAgainstAttacker()
				if hour == 12 {
					if _, err := e.signIn(victim, "correct horse battery stapel", hers); code(err) != "invalid" {
						t.Fatalf("hour %d, her typo: %v", hour, err)
					}
					_, err := e.signIn(victim, demoPassword, hers)
					var tm *accounts.TooManyAttempts
					if !errors.As(err, &tm) || tm.RetryAfter > 15*time.Minute {
						t.Fatalf("hour %d, right after her typo: %v; want a wait of at most 15 minutes", hour, err)
					}
					e.clock.Add(tm.RetryAfter)
					lockedAgainstAttacker()
				}
				if _, err := e.signIn(victim, demoPassword, hers); err != nil {
					t.Fatalf("hour %d: alice cannot sign in while the attacker keeps the account locked: %v", hour, err)
				}
				slept := e.clock.takeSlept()
				if len(slept) != 1 || slept[0] > 10*time.Second {
					t.Errorf("hour %d: alice waited %v; want one wait of at most 10s", hour, slept)
				}
			}
			hours := e.clock.Now().Sub(start).Hours()
			t.Logf("%s: %d guesses checked, %d refused in %.1f hours", strategy, checked, refused, hours)
			// Each of alice's sign-ins clears the count, which gives the
			// attacker five more guesses.
			if limit := int(hours*4)*len(attackers) + 5*5; checked > limit {
				t.Errorf("%d guesses checked in %.1f hours; want at most %d", checked, hours, limit)
			}
		})
	}
}

// TestSignIn_ALockedAccountSlowsNewAddresses: while an email is locked,
// an address that has not failed on it is let through after a delay that
// grows with the lock, never refused; one that has failed on it is refused.
func TestSignIn_ALockedAccountSlowsNewAddresses(t *testing.T) {
	for _, email := range []string{"alice@acme.test", "nobody@acme.test"} { // known or not: the same
		t.Run(email, func(t *testing.T) {
			e := newEnv(t, accounts.Options{})
			for i := range 5 {
				if _, err := e.signIn(email, "wrong password here", fmt.Sprintf("192.0.2.%d", i)); code(err) != "invalid" {
					t.Fatalf("failure %d: %v", i+1, err)
				}
			}
			e.clock.takeSlept()
			_, err := e.signIn(email, demoPassword, "192.0.2.0")
			var tm *accounts.TooManyAttempts
			if !errors.As(err, &tm) || tm.RetryAfter != time.Minute {
				t.Fatalf("from an address that failed on it: %v; want 1 minute", err)
			}
			want := "ok"
			if email == "nobody@acme.test" {
				want = "invalid"
			}
			if _, err := e.signIn(email, demoPassword, "198.51.100.1"); code(err) != want {
				t.Fatalf("from a new address: %v; want %s", err, want)
			}
			if got := e.clock.takeSlept(); len(got) != 1 || got[0] != time.Second {
				t.Errorf("slept %v; want 1s", got)
			}
		})
	}
}

// TestSignIn_AnAddressIsSlowedNeverRefused: many people behind one address
// (a proxy whose X-Forwarded-For is not trusted) are slowed while someone
// among them keeps failing, never locked out; left alone, it is forgotten.
func TestSignIn_AnAddressIsSlowedNeverRefused(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	for i := range 5 {
		if _, err := e.signIn(fmt.Sprintf("user%d@x.test", i), "wrong password here", "2001:db8::1"); code(err) != "invalid" {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	e.clock.takeSlept()
	// The same /64 is the same client: slowed, not refused. Another address is not slowed.
	if _, err := e.signIn("alice@acme.test", demoPassword, "2001:db8::2"); err != nil {
		t.Fatalf("same /64: %v", err)
	}
	if got := e.clock.takeSlept(); len(got) != 1 || got[0] != time.Second {
		t.Errorf("same /64 slept %v; want 1s", got)
	}
	if _, err := e.signIn("bob@acme.test", demoPassword, "2001:db8:0:1::1"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	if got := e.clock.takeSlept(); len(got) != 0 {
		t.Errorf("another address slept %v", got)
	}
	// Each further failure slows it more, up to 10 s.
	var waits []time.Duration
	for i := range 6 {
		if _, err := e.signIn(fmt.Sprintf("more%d@x.test", i), "wrong password here", "2001:db8::1"); code(err) != "invalid" {
			t.Fatalf("further failure %d: %v", i, err)
		}
		waits = append(waits, e.clock.takeSlept()...)
	}
	if fmt.Sprint(waits) != "[1s 2s 4s 8s 10s 10s]" {
		t.Errorf("waits %v; want [1s 2s 4s 8s 10s 10s]", waits)
	}
	// Left alone, the lock ends, and 15 quiet minutes after it the count
	// starts again: 4 more failures are not slowed.
	e.clock.Add(15*time.Minute + 15*time.Minute)
	for i := range 4 {
		if _, err := e.signIn("f@x.test", "wrong password here", "2001:db8::1"); code(err) != "invalid" {
			t.Fatalf("failure %d after the quiet period: %v", i, err)
		}
	}
	if got := e.clock.takeSlept(); len(got) != 0 {
		t.Errorf("after the quiet period slept %v", got)
	}
}

// TestSignIn_NewAddressesGetNoMoreThanTheirRate: many addresses do not buy
// many guesses. While an email is locked, addresses that have not failed
// on it get 20 wrong passwords an hour checked between them; beyond that
// everyone is refused until the rate allows one more.
func TestSignIn_NewAddressesGetNoMoreThanTheirRate(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	const email = "alice@acme.test"
	for i := range 5 {
		if _, err := e.signIn(email, "wrong password here", "192.0.2.1"); code(err) != "invalid" {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	checked, start := 0, e.clock.Now()
	for i := range 40 {
		_, err := e.signIn(email, "wrong password here", fmt.Sprintf("10.0.%d.%d", i/200, i%200))
		switch code(err) {
		case "invalid":
			checked++
		case "too_many":
		default:
			t.Fatalf("new address %d: %v", i, err)
		}
	}
	// The delays of those let through move the clock on too: the rate
	// allows one more per 3 minutes of them.
	if extra := int(e.clock.Now().Sub(start) / (3 * time.Minute)); checked < 20 || checked > 20+extra+1 {
		t.Fatalf("%d of 40 new addresses had their guess checked in %v; want 20 and one per 3 minutes", checked, e.clock.Now().Sub(start))
	}
	// Even the right password is refused now, from anywhere...
	if _, err := e.signIn(email, demoPassword, "198.51.100.20"); code(err) != "too_many" {
		t.Fatalf("over the rate: %v; want too many", err)
	}
	// ...until the rate allows one more (3 minutes at 20 an hour).
	e.clock.Add(3 * time.Minute)
	if _, err := e.signIn(email, demoPassword, "198.51.100.20"); err != nil {
		t.Fatalf("3 minutes later: %v", err)
	}
}

// M-1: a parallel burst of wrong passwords for one email from one address
// is counted as it comes: no more than MaxFailures passwords are checked
// (before, all 40 were, each having read the state before any failed).
func TestSignIn_ParallelBurstChecksAtMostMaxFailures(t *testing.T) {
	var checks atomic.Int32
	h := passwords.NewHasher(0)
	h.MaxWaiting = 100 // this test is about the throttle, not the queue
	h.OnStart = func(int) { checks.Add(1) }
	e := newEnv(t, accounts.Options{Hasher: h})
	checks.Store(0)
	const n = 40
	var (
		start    sync.WaitGroup
		wg       sync.WaitGroup
		mu       sync.Mutex
		outcomes = map[string]int{}
	)
	start.Add(1)
	for i := range n {
		wg.Go(func() {
			start.Wait()
			_, err := e.signIn("alice@acme.test", fmt.Sprintf("wrong guess number %02d abcdef", i), "203.0.113.9")
			mu.Lock()
			outcomes[code(err)]++
			mu.Unlock()
		})
	}
	start.Done()
	wg.Wait()
	if got := checks.Load(); got > 5 {
		t.Errorf("%d passwords checked in a burst of %d; want at most MaxFailures (5); outcomes %v", got, n, outcomes)
	}
	if outcomes["invalid"] > 5 || outcomes["invalid"]+outcomes["too_many"] != n {
		t.Errorf("outcomes %v; want at most 5 invalid, the rest too_many", outcomes)
	}
	if _, err := e.signIn("alice@acme.test", "one more wrong guess abcdef", "203.0.113.9"); code(err) != "too_many" {
		t.Errorf("after the burst: %v; want too_many", err)
	}
}

// M-1: past the hasher's queue, a sign-in is refused at once as busy (503
// with Retry-After at the edge) and counts against nobody.
func TestSignIn_FullHasherQueueRefusesAsBusy(t *testing.T) {
	h := passwords.NewHasher(1)
	h.MaxWaiting = 0
	hold, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	h.OnStart = func(int) {
		if first.CompareAndSwap(false, true) {
			close(hold)
			<-release
		}
	}
	e := newEnv(t, accounts.Options{Hasher: h})
	first.Store(false)
	done := make(chan error)
	go func() {
		_, err := e.signIn("bob@acme.test", demoPassword, "198.51.100.1")
		done <- err
	}()
	<-hold
	_, err := e.signIn("alice@acme.test", "a wrong password for alice", "198.51.100.2")
	var tm *accounts.TooManyAttempts
	if !errors.As(err, &tm) || !tm.Busy || tm.RetryAfter <= 0 {
		t.Errorf("sign-in with the hasher full: %v; want a busy refusal with a Retry-After", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the sign-in holding the hasher: %v", err)
	}
	// The refused attempt checked nothing, so it counted nothing: four
	// wrong passwords now leave alice unlocked, as four always did.
	for i := range 4 {
		if _, err := e.signIn("alice@acme.test", fmt.Sprintf("wrong password %d abcdef", i), "198.51.100.2"); code(err) != "invalid" {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if e.accountLocked(t, "alice@acme.test") {
		t.Error("the busy refusal was counted as a failure")
	}
}

// L-1: reset requests start workflows; one address gets ResetsPerAddrHour
// an hour and then refusals, however it sends them (before: 60 parallel
// requests started 60 workflows, and sequential ones were only delayed).
func TestRequestReset_OneAddressIsRefusedPastItsRate(t *testing.T) {
	e := newEnv(t, accounts.Options{Sleep: func(context.Context, time.Duration) error { return nil }})
	ctx := context.Background()
	var wg sync.WaitGroup
	var refused atomic.Int32
	for i := range 60 {
		wg.Go(func() {
			if err := e.svc.RequestReset(ctx, fmt.Sprintf("nobody%02d@example.org", i), "203.0.113.10"); code(err) == "too_many" {
				refused.Add(1)
			} else if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	e.ops.Wait()
	if started := countResets(e); started != 20 || refused.Load() != 40 {
		t.Errorf("60 parallel requests: %d started, %d refused; want 20 and 40", started, refused.Load())
	}
	for i := range 10 {
		if err := e.svc.RequestReset(ctx, fmt.Sprintf("later%02d@example.org", i), "203.0.113.10"); code(err) != "too_many" {
			t.Errorf("sequential request %d after the burst: %v; want too_many", i, err)
		}
	}
	// Another address is not refused.
	if err := e.svc.RequestReset(ctx, "someone@example.org", "203.0.113.11"); err != nil {
		t.Errorf("another address: %v", err)
	}
	// An hour on, the address may ask again.
	e.clock.Add(time.Hour)
	if err := e.svc.RequestReset(ctx, "again@example.org", "203.0.113.10"); err != nil {
		t.Errorf("an hour later: %v", err)
	}
}

// L-1: however many addresses ask, no more than ResetsPerMinute start a
// minute.
func TestRequestReset_EveryoneTogetherHasACeiling(t *testing.T) {
	e := newEnv(t, accounts.Options{ResetsPerMinute: 10, Sleep: func(context.Context, time.Duration) error { return nil }})
	ctx := context.Background()
	refused := 0
	for i := range 30 {
		if err := e.svc.RequestReset(ctx, fmt.Sprintf("n%02d@example.org", i), fmt.Sprintf("198.51.100.%d", i+1)); code(err) == "too_many" {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	e.ops.Wait()
	if started := countResets(e); started != 10 || refused != 20 {
		t.Errorf("30 requests from 30 addresses: %d started, %d refused; want 10 and 20", started, refused)
	}
	e.clock.Add(time.Minute)
	if err := e.svc.RequestReset(ctx, "next@example.org", "198.51.100.200"); err != nil {
		t.Errorf("a minute later: %v", err)
	}
}

func countResets(e *env) int {
	n := 0
	for _, c := range e.ops.Calls() {
		if strings.HasPrefix(c, "reset ") {
			n++
		}
	}
	return n
}

// Package pacing spaces the calls made to a peer that limits how fast it
// may be called (the payment provider, Slack, an SMTP relay), so that every
// process together stays under the limit instead of finding it by 429s.
//
// A Pacer reserves each call a slot under the generic cell rate algorithm
// (GCRA): one call every 1/Rate seconds, with up to Burst at once after a
// quiet spell. The slots live in a Store; postgres.DB implements one that
// every worker shares, so the limit holds whatever the number of workers.
// A caller that would wait longer than its context allows reserves nothing
// and gets a *BusyError at once, to be retried later.
package pacing

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// Limit is how fast a peer may be called.
type Limit struct {
	Rate  float64 // calls per second; 0 or less: unlimited
	Burst int     // calls that may go at once after a quiet spell; less than 1 counts as 1
}

// PerSecond is n calls a second, one at a time.
func PerSecond(n float64) Limit { return Limit{Rate: n, Burst: 1} }

// PerMinute is n calls a minute, one at a time.
func PerMinute(n float64) Limit { return Limit{Rate: n / 60, Burst: 1} }

// Unlimited reports whether the limit lets every call through at once.
func (l Limit) Unlimited() bool { return l.Rate <= 0 || math.IsInf(l.Rate, 1) }

// Slot is what a Store needs to reserve under a limit: the key names the
// limited peer or method, Every is the emission interval and Tolerance how
// far ahead of its turn a call may go ((Burst-1) × Every).
type Slot struct {
	Key       string
	Every     time.Duration
	Tolerance time.Duration
}

func (l Limit) slot(key string) Slot {
	every := time.Duration(float64(time.Second) / l.Rate)
	if every < time.Microsecond {
		every = time.Microsecond
	}
	return Slot{Key: key, Every: every, Tolerance: time.Duration(max(l.Burst, 1)-1) * every}
}

// Store keeps the slots. Implementations are safe for concurrent use.
type Store interface {
	// Reserve takes the next slot and says how long to wait before using
	// it. When that is further than maxWait away nothing is reserved, ok
	// is false, and wait says how far away the next slot is.
	Reserve(ctx context.Context, s Slot, maxWait time.Duration) (wait time.Duration, ok bool, err error)
	// Hold makes the next slot at least d away (the peer asked us to
	// slow down).
	Hold(ctx context.Context, s Slot, d time.Duration) error
}

// BusyError says a call could not get a slot within its context's time.
type BusyError struct {
	Key     string
	RetryIn time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("pacing %s: the next free slot is %s away, more than this call may wait", e.Key, e.RetryIn.Round(time.Millisecond))
}

// IsBusy reports whether err is a *BusyError.
func IsBusy(err error) bool {
	var b *BusyError
	return errors.As(err, &b)
}

// Pacer paces the calls to one peer (or one method of it).
type Pacer struct {
	Store Store
	Key   string
	Limit Limit
	// MaxWait bounds the wait of a caller whose context has no deadline;
	// zero: one minute.
	MaxWait time.Duration
}

// deadlineMargin is kept free at the end of a caller's context for the
// call itself.
const deadlineMargin = 2 * time.Second

// Wait blocks until the caller may make one call, or returns a *BusyError
// at once when that is further away than its context allows. A nil Pacer,
// or one without a store or limit, never waits.
func (p *Pacer) Wait(ctx context.Context) error {
	if p == nil || p.Store == nil || p.Limit.Unlimited() {
		return nil
	}
	maxWait := p.MaxWait
	if maxWait <= 0 {
		maxWait = time.Minute
	}
	if d, ok := ctx.Deadline(); ok {
		maxWait = min(maxWait, time.Until(d)-deadlineMargin) //clock:wall the context deadline is wall time
	}
	if maxWait < 0 {
		maxWait = 0
	}
	wait, ok, err := p.Store.Reserve(ctx, p.Limit.slot(p.Key), maxWait)
	if err != nil {
		return fmt.Errorf("pacing %s: %w", p.Key, err)
	}
	if !ok {
		return &BusyError{Key: p.Key, RetryIn: wait}
	}
	return sleep(ctx, wait)
}

// Hold makes every caller of this pacer wait at least d from now, as a
// peer that answered "slow down" asks. A nil Pacer ignores it.
func (p *Pacer) Hold(ctx context.Context, d time.Duration) error {
	if p == nil || p.Store == nil || p.Limit.Unlimited() || d <= 0 {
		return nil
	}
	return p.Store.Hold(ctx, p.Limit.slot(p.Key), d)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// MemoryStore keeps slots in this process: for tests, and for a single
// process with nothing to share them with.
type MemoryStore struct {
	mu  sync.Mutex
	tat map[string]time.Time
	now func() time.Time // nil: the wall clock (pacing measures, it decides nothing)
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{tat: map[string]time.Time{}} }

func (m *MemoryStore) clock() time.Time {
	if m.now != nil {
		return m.now()
	}
	return time.Now() //clock:wall pacing spaces calls in real time; it decides nothing
}

// Reserve implements Store.
func (m *MemoryStore) Reserve(_ context.Context, s Slot, maxWait time.Duration) (time.Duration, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock()
	tat := m.tat[s.Key]
	if tat.Before(now) {
		tat = now
	}
	wait := max(tat.Add(-s.Tolerance).Sub(now), 0)
	if wait > maxWait {
		return wait, false, nil
	}
	m.tat[s.Key] = tat.Add(s.Every)
	return wait, true, nil
}

// Hold implements Store.
func (m *MemoryStore) Hold(_ context.Context, s Slot, d time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if until := m.clock().Add(d + s.Tolerance); m.tat[s.Key].Before(until) {
		m.tat[s.Key] = until
	}
	return nil
}

package postgres_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"licensedesk/pacing"
	"licensedesk/postgres"
)

// Two processes (two pools on one database) pacing the same key together
// never go faster than the limit: in any second there are at most Rate
// starts plus the burst.
func TestPacing_SharedByEveryProcess(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	other, err := postgres.Open(ctx, db.Pool().Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	const rate, burst, calls = 40, 2, 80
	var (
		mu     sync.Mutex
		starts []time.Time
		wg     sync.WaitGroup
	)
	begin := time.Now()
	for i := range 16 {
		store := db
		if i%2 == 1 {
			store = other
		}
		p := &pacing.Pacer{Store: store, Key: "test/provider", Limit: pacing.Limit{Rate: rate, Burst: burst}}
		wg.Go(func() {
			for range calls / 16 {
				if err := p.Wait(ctx); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				starts = append(starts, time.Now())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	took := time.Since(begin)
	// 80 calls at 40/s with a burst of 2: the last may start after 78/40 s.
	if want := time.Duration(float64(calls-burst) / rate * float64(time.Second)); took < want-50*time.Millisecond {
		t.Errorf("%d calls took %v; at %d/s they need at least %v", calls, took, rate, want)
	}
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	for i := range starts {
		j := i
		for j < len(starts) && starts[j].Sub(starts[i]) < time.Second {
			j++
		}
		// Timer and scheduling noise can move a start a few ms late, never early.
		if n := j - i; n > rate+burst+1 {
			t.Fatalf("%d calls started within one second from %v; the limit allows %d", n, starts[i].Sub(begin), rate+burst)
		}
	}
}

// A caller that would wait longer than its context allows reserves nothing
// and hears at once when to come back; a peer's "slow down" holds everyone.
func TestPacing_BusyAndHold(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	p := &pacing.Pacer{Store: db, Key: "test/slack", Limit: pacing.PerSecond(1)}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 3500*time.Millisecond) // 1.5 s to wait after the margin
	defer cancel()
	if err := p.Wait(short); err != nil {
		t.Fatalf("the second call fits within the deadline: %v", err)
	}
	short2, cancel2 := context.WithTimeout(ctx, 2800*time.Millisecond) // 0.8 s; the next slot is 1 s away
	defer cancel2()
	err := p.Wait(short2)
	if !pacing.IsBusy(err) {
		t.Fatalf("a third call: %v; want busy", err)
	}
	if err := p.Hold(ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 2900*time.Millisecond {
		t.Errorf("after a 3 s hold the next call went after %v", waited)
	}
}

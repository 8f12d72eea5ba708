package passwords

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestHasher_NeverRunsMoreThanItsLimit(t *testing.T) {
	h := NewHasher(2)
	var peak, total atomic.Int32
	h.OnStart = func(running int) {
		total.Add(1)
		for p := peak.Load(); int32(running) > p && !peak.CompareAndSwap(p, int32(running)); p = peak.Load() {
		}
	}
	hash, err := Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = h.Hash(context.Background(), "purple tractor sings at dawn")
			} else {
				var ok bool
				if ok, err = h.Check(context.Background(), hash, "correct horse battery staple"); err == nil && !ok {
					err = errors.New("the right password did not match")
				}
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if total.Load() != 12 || peak.Load() > 2 || peak.Load() < 1 {
		t.Fatalf("%d computations, at most %d at once; want 12, at most 2", total.Load(), peak.Load())
	}
}

// A caller that gives up while every slot is busy gets its context's error
// and computes nothing.
func TestHasher_WaitingEndsWithTheContext(t *testing.T) {
	h := NewHasher(1)
	started, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	h.OnStart = func(int) {
		if calls.Add(1) == 1 {
			close(started)
			<-release
		}
	}
	done := make(chan error)
	go func() {
		_, err := h.Hash(context.Background(), "purple tractor sings at dawn")
		done <- err
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "another long passphrase"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with a busy Hasher and an ended context: %v; want context.Canceled", err)
	}
	if _, err := h.Check(ctx, "$argon2id$x", "another long passphrase"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Check: %v; want context.Canceled", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d computations started; want only the first", calls.Load())
	}
	if NewHasher(0).Limit() < 2 {
		t.Error("the default limit is below 2 × GOMAXPROCS")
	}
}

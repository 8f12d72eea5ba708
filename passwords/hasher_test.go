package passwords

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

func TestHasher_NeverRunsMoreThanItsLimit(t *testing.T) {
	h := NewHasher(2)
	h.MaxWaiting = 12 // all of them may wait here
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

// M-1: the queue is bounded; past it a computation is refused at once
// (ErrBusy), not left to wait until its client gives up.
func TestHasher_RefusesPastItsQueue(t *testing.T) {
	h := NewHasher(1)
	if h.MaxWaiting != 4 {
		t.Fatalf("MaxWaiting %d; want 4 × the limit", h.MaxWaiting)
	}
	h.MaxWaiting = 2
	started, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	h.OnStart = func(int) {
		if calls.Add(1) == 1 {
			close(started)
		}
		<-release
	}
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = h.Hash(context.Background(), "purple tractor sings at dawn") })
	<-started
	for range 2 {
		wg.Go(func() { _, _ = h.Hash(context.Background(), "purple tractor sings at dawn") })
	}
	for h.waiting.Load() < 2 {
		runtime.Gosched()
	}
	if _, err := h.Check(context.Background(), "$argon2id$x", "another long passphrase"); !errors.Is(err, ErrBusy) {
		t.Errorf("a fourth computation with one running and two waiting: %v; want ErrBusy", err)
	}
	close(release)
	wg.Wait()
	if calls.Load() != 3 {
		t.Errorf("%d computations ran; want the 3 admitted", calls.Load())
	}
}

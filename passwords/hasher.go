package passwords

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
)

// ErrBusy refuses a computation when MaxWaiting are already queued: a
// client flooding sign-ins gets refusals, not a queue that makes everyone
// else's sign-in, reset and account set-up wait minutes. Edges answer 503
// with Retry-After.
var ErrBusy = errors.New("passwords: too many password checks waiting")

// Hasher runs argon2id (Hash and Check) at most Limit computations at a
// time: each holds Default.MemoryKiB (19 MiB) and a core for tens of
// milliseconds, so a burst of sign-ins or account setups queues here
// instead of exhausting the process's memory. Everything in one process
// that hashes or checks a password shares one Hasher.
type Hasher struct {
	slots   chan struct{}
	running atomic.Int32
	waiting atomic.Int32

	// MaxWaiting is how many computations may wait for a slot; one more is
	// refused with ErrBusy. NewHasher sets 4 × Limit.
	MaxWaiting int

	// OnStart, when set (before the Hasher is used), is called as each
	// computation starts with how many are running, this one included.
	// Tests count with it.
	OnStart func(running int)
}

// NewHasher returns a Hasher for at most limit computations at once;
// limit <= 0 means 2 × GOMAXPROCS.
func NewHasher(limit int) *Hasher {
	if limit <= 0 {
		limit = 2 * runtime.GOMAXPROCS(0)
	}
	return &Hasher{slots: make(chan struct{}, limit), MaxWaiting: 4 * limit}
}

// Limit is how many computations may run at once.
func (h *Hasher) Limit() int { return cap(h.slots) }

// Hash is the package's Hash, within the limit. It waits for a turn until
// ctx ends, or refuses with ErrBusy when too many wait already.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	done, err := h.start(ctx)
	if err != nil {
		return "", err
	}
	defer done()
	return Hash(password)
}

// Check is the package's Check, within the limit.
func (h *Hasher) Check(ctx context.Context, hash, password string) (bool, error) {
	done, err := h.start(ctx)
	if err != nil {
		return false, err
	}
	defer done()
	return Check(hash, password)
}

func (h *Hasher) start(ctx context.Context) (done func(), err error) {
	select {
	case h.slots <- struct{}{}:
	default:
		if int(h.waiting.Add(1)) > h.MaxWaiting {
			h.waiting.Add(-1)
			return nil, ErrBusy
		}
		select {
		case h.slots <- struct{}{}:
			h.waiting.Add(-1)
		case <-ctx.Done():
			h.waiting.Add(-1)
			return nil, ctx.Err()
		}
	}
	n := h.running.Add(1)
	if h.OnStart != nil {
		h.OnStart(int(n))
	}
	return func() {
		h.running.Add(-1)
		<-h.slots
	}, nil
}

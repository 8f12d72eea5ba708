package main

import (
	"context"
	"sync"
	"time"

	"licensedesk/webhooks"
	"licensedesk/webhooks/sender"
)

// webhookPolicy is where webhooks may go: public https only, unless dev
// or WEBHOOK_ALLOW_PRIVATE=true allows http and private addresses too
// (receivers on this host, tests), which is said at start.
func (s *services) webhookPolicy() webhooks.Policy {
	return webhooks.Policy{AllowPrivate: s.dev || s.cfg.WebhookAllowPrivate == "true"}
}

// newWebhookSender is the sender deliveries (and the API's checks of new
// endpoints) use.
func (s *services) newWebhookSender() *sender.Sender {
	return sender.New(s.webhookPolicy(), 0, 16)
}

// nudgeDelay gathers the notifications of a burst of commits into one
// signal per endpoint.
const nudgeDelay = 100 * time.Millisecond

// listenWebhooks wakes the delivery workflow of each endpoint with new
// events as their changes commit, until ctx ends (worker and dev).
func (s *services) listenWebhooks(ctx context.Context) {
	var (
		mu      sync.Mutex
		pending = map[string]bool{}
	)
	nudge := func(id string) {
		mu.Lock()
		defer mu.Unlock()
		if pending[id] {
			return
		}
		pending[id] = true
		time.AfterFunc(nudgeDelay, func() {
			mu.Lock()
			delete(pending, id)
			mu.Unlock()
			nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := s.ops.NudgeWebhooks(nctx, id, false); err != nil && ctx.Err() == nil {
				s.logger.Warn("webhooks: could not wake the delivery of an endpoint (its next poll will)", "endpoint", id, "err", err)
			}
		})
	}
	_ = s.db.ListenWebhookEvents(ctx, nudge, func(err error) {
		s.logger.Warn("webhooks: listening for new events failed; listening again", "err", err)
	})
}

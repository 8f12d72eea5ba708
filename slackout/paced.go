package slackout

import (
	"context"
	"time"

	"licensedesk/pacing"
)

// Limits are the Slack Web API limits the bot keeps to.
type Limits struct {
	PostPerChannel pacing.Limit // chat.postMessage, per channel
	Update         pacing.Limit // chat.update, per workspace (its method tier)
}

// DocumentedLimits are Slack's own: chat.postMessage "generally allows
// posting one message per second per channel" (short bursts tolerated,
// not promised, so none are used), and chat.update is a Tier 3 method,
// "50+ per minute".
var DocumentedLimits = Limits{PostPerChannel: pacing.PerSecond(1), Update: pacing.PerMinute(50)}

// Paced returns p with every post and update paced to limits, shared by
// every worker through store, so the bot waits its turn instead of being
// answered 429. A call whose turn is further away than its context allows
// fails at once with a *pacing.BusyError, which is not permanent: the
// activity that made it is retried later, and nothing else waits on it.
// Replies to a response_url are not paced: a person is waiting on each,
// and each URL takes only a few.
func Paced(p Poster, store pacing.Store, limits Limits) *PacedPoster {
	return &PacedPoster{p: p, store: store, limits: limits}
}

// PacedPoster is a Poster that keeps to Slack's limits (Paced).
type PacedPoster struct {
	p      Poster
	store  pacing.Store
	limits Limits
}

// PostKey and UpdateKey name the pacing keys of chat.postMessage in a
// channel and of chat.update.
func PostKey(channel string) string { return "slack/chat.postMessage/" + channel }

// UpdateKey is chat.update's pacing key.
const UpdateKey = "slack/chat.update"

var _ Poster = (*PacedPoster)(nil)

func (x *PacedPoster) Post(ctx context.Context, m Message) (string, error) {
	pacer := pacing.Pacer{Store: x.store, Key: PostKey(m.Channel), Limit: x.limits.PostPerChannel}
	if err := pacer.Wait(ctx); err != nil {
		return "", err
	}
	return x.p.Post(ctx, m)
}

func (x *PacedPoster) Update(ctx context.Context, channel, ts string, m Message) error {
	pacer := pacing.Pacer{Store: x.store, Key: UpdateKey, Limit: x.limits.Update}
	if err := pacer.Wait(ctx); err != nil {
		return err
	}
	return x.p.Update(ctx, channel, ts, m)
}

func (x *PacedPoster) Respond(ctx context.Context, responseURL string, m Message) error {
	return x.p.Respond(ctx, responseURL, m)
}

// Hold makes the next call of a method wait at least d, for every worker:
// Slack answered 429 with Retry-After d anyway (WebAPI.OnRateLimited).
func (x *PacedPoster) Hold(ctx context.Context, method, channel string, d time.Duration) {
	limit, key := x.limits.Update, UpdateKey
	if method == "chat.postMessage" {
		limit, key = x.limits.PostPerChannel, PostKey(channel)
	}
	pacer := pacing.Pacer{Store: x.store, Key: key, Limit: limit}
	_ = pacer.Hold(ctx, d)
}

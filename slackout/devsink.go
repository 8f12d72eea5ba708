package slackout

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
)

// DevStore keeps dev-mode messages; *postgres.DB implements it.
type DevStore interface {
	// KeepSlackMessage stores a new message and returns a Slack-like ts.
	KeepSlackMessage(ctx context.Context, channel, threadTS, text string, blocks []byte) (ts string, err error)
	// UpdateSlackMessage replaces a kept message's text and blocks; an
	// unknown channel/ts is a licensing NotFound error.
	UpdateSlackMessage(ctx context.Context, channel, ts, text string, blocks []byte) error
}

// ResponseURLChannel is the channel DevSink files response_url replies under.
const ResponseURLChannel = "response_url"

// DevSink keeps messages in the database for /dev/slack instead of sending
// them, with Slack's limits applied so the page shows what Slack would.
type DevSink struct{ store DevStore }

var _ Poster = (*DevSink)(nil)

// NewDevSink returns a DevSink keeping messages in store.
func NewDevSink(store DevStore) *DevSink { return &DevSink{store: store} }

// Post implements Poster.
func (d *DevSink) Post(ctx context.Context, m Message) (string, error) {
	m = fit(m)
	blocks, err := blocksJSON(m.Blocks)
	if err != nil {
		return "", err
	}
	return d.store.KeepSlackMessage(ctx, m.Channel, m.ThreadTS, m.Text, blocks)
}

// Update implements Poster. An unknown message fails as Slack's would, with
// message_not_found, so IsPermanent treats both alike.
func (d *DevSink) Update(ctx context.Context, channel, ts string, m Message) error {
	m = fit(m)
	blocks, err := blocksJSON(m.Blocks)
	if err != nil {
		return err
	}
	err = d.store.UpdateSlackMessage(ctx, channel, ts, m.Text, blocks)
	if licensing.ErrorCode(err) == licensing.NotFound {
		return fmt.Errorf("%w: %w", slack.SlackErrorResponse{Err: "message_not_found"}, err)
	}
	return err
}

// Respond implements Poster: dev response_urls (<base>/dev/slack/response)
// lead nowhere, so the reply is kept under ResponseURLChannel.
func (d *DevSink) Respond(ctx context.Context, responseURL string, m Message) error {
	m.Channel = ResponseURLChannel
	_, err := d.Post(ctx, m)
	return err
}

func blocksJSON(blocks []slack.Block) ([]byte, error) {
	if len(blocks) == 0 {
		return []byte("[]"), nil
	}
	return json.Marshal(blocks)
}

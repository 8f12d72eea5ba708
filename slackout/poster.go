// Package slackout sends the bot's outgoing Slack messages: posts, updates
// and replies to a command's response_url. WebAPI talks to Slack (or to
// whatever SLACK_API_URL names); DevSink keeps the messages in PostgreSQL for
// /dev/slack when no bot token is configured.
//
// chat.postMessage has no idempotency key, so a Post retried after a lost
// answer can post twice. Workflows therefore post once, remember the ts the
// activity returned, and only Update after that.
package slackout

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Slack's limits for one message.
const (
	MaxTextLen = 40000 // characters of text
	MaxBlocks  = 50
)

// Message is one message to post, update or send to a response_url.
type Message struct {
	Channel  string // an ID (C…) is best: chat.update accepts nothing else
	ThreadTS string // reply in this thread; ignored by Update
	Text     string // the whole message, or the notification fallback when Blocks are set
	Blocks   []slack.Block
	// ReplaceOriginal makes a response_url reply replace the message that
	// carried the command or button; ignored by Post and Update.
	ReplaceOriginal bool
}

// Poster sends messages. Implementations are safe for concurrent use.
type Poster interface {
	// Post posts m and returns its ts, which Update needs later.
	Post(ctx context.Context, m Message) (ts string, err error)
	// Update replaces the text and blocks of the message channel/ts.
	Update(ctx context.Context, channel, ts string, m Message) error
	// Respond sends m to a slash command's or interaction's response_url.
	Respond(ctx context.Context, responseURL string, m Message) error
}

// fit cuts m down to Slack's limits, so a long report is shortened rather
// than refused. Text is cut on a character boundary, with an ellipsis.
func fit(m Message) Message {
	if utf8.RuneCountInString(m.Text) > MaxTextLen {
		runes := []rune(m.Text)
		m.Text = string(runes[:MaxTextLen-1]) + "…"
	}
	if len(m.Blocks) > MaxBlocks {
		dropped := len(m.Blocks) - (MaxBlocks - 1)
		note := slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType,
			fmt.Sprintf("_…and %d more not shown._", dropped), false, false))
		m.Blocks = append(m.Blocks[:MaxBlocks-1:MaxBlocks-1], note)
	}
	return m
}

// permanentCodes are Slack error codes that no retry will cure: the token,
// the channel, the message or its content is wrong.
var permanentCodes = map[string]bool{
	"not_authed": true, "invalid_auth": true, "account_inactive": true,
	"token_revoked": true, "token_expired": true, "no_permission": true,
	"missing_scope": true, "not_allowed_token_type": true, "access_denied": true,
	"team_access_not_granted": true, "ekm_access_denied": true,
	"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"restricted_action": true, "restricted_action_read_only_channel": true,
	"restricted_action_thread_only_channel": true, "restricted_action_non_threadable_channel": true,
	"cannot_reply_to_message": true, "msg_too_long": true, "no_text": true,
	"too_many_attachments": true, "invalid_blocks": true, "invalid_blocks_format": true,
	"invalid_attachments": true, "invalid_metadata_format": true, "invalid_arguments": true,
	"invalid_arg_name": true, "invalid_charset": true, "invalid_form_data": true,
	"invalid_post_type": true, "missing_post_type": true, "message_not_found": true,
	"cant_update_message": true, "edit_window_closed": true, "invalid_ts": true,
	"no_such_subteam": true, "subteam_not_found": true, "plan_upgrade_required": true,
	"expired_url": true, "used_url": true,
}

// IsPermanent reports whether err will recur however often the call is
// retried, so a workflow should stop retrying it: a Slack error such as
// invalid_auth, channel_not_found, not_in_channel or msg_too_long, or a 4xx
// answer from a response_url. Rate limits, 5xx answers, timeouts and network
// errors are not permanent.
func IsPermanent(err error) bool {
	var apiErr slack.SlackErrorResponse
	if errors.As(err, &apiErr) {
		return permanentCodes[apiErr.Err]
	}
	var statusErr slack.StatusCodeError
	if errors.As(err, &statusErr) {
		return clientError(statusErr.Code)
	}
	var urlErr *responseURLError
	if errors.As(err, &urlErr) {
		return permanentCodes[urlErr.code] || clientError(urlErr.status)
	}
	return false
}

// clientError reports whether an HTTP status means the request itself is wrong.
func clientError(status int) bool {
	return status >= 400 && status < 500 &&
		status != http.StatusTooManyRequests && status != http.StatusRequestTimeout
}

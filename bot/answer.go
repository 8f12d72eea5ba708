package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/slack-go/slack"
)

// The one path from a Slack request to its reply, whichever transport
// brought it: HTTP (handler.go, interactions.go) and Socket Mode
// (socketmode.go) only decode what Slack sent and deliver what comes back.

// commandDeadline leaves Slack's 3-second limit room for the network.
var commandDeadline = 2500 * time.Millisecond // a var so tests need not wait for it

// overrunReply is the answer when a command is still running at the deadline.
var overrunReply = ephemeral("That is taking longer than Slack waits for; please try again in a moment.")

// commandRequest is the Request of a slash command: Slack sends the same
// fields as a form over HTTP and as JSON over Socket Mode.
func commandRequest(sc slack.SlashCommand) Request {
	return Request{
		UserID: sc.UserID, UserName: sc.UserName, ChannelID: sc.ChannelID, TeamID: sc.TeamID,
		Text: sc.Text, ResponseURL: sc.ResponseURL, TriggerID: sc.TriggerID,
	}
}

// answerCommand dispatches a slash command and answers within Slack's
// deadline.
func (r *Registry) answerCommand(ctx context.Context, sc slack.SlashCommand) Reply {
	req := commandRequest(sc)
	return withinDeadline(ctx, func(ctx context.Context) Reply { return r.Dispatch(ctx, req) }, func() {
		r.logger.Warn("slack command overran its deadline", "user", req.UserID, "command", r.commandName(req.Text))
	})
}

// answerInteraction answers a pressed Confirm or Cancel button within
// Slack's deadline. ok is false for interactions that are not ours, which
// need no more than an acknowledgement. The reply replaces the message
// that held the button.
func (r *Registry) answerInteraction(ctx context.Context, cb slack.InteractionCallback) (reply Reply, ok bool) {
	if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) == 0 {
		return Reply{}, false
	}
	action := cb.ActionCallback.BlockActions[0]
	req := Request{UserID: cb.User.ID, UserName: cb.User.Name, ChannelID: cb.Channel.ID, TeamID: cb.Team.ID,
		ResponseURL: cb.ResponseURL, TriggerID: cb.TriggerID}
	reply = withinDeadline(ctx, func(ctx context.Context) Reply {
		return r.Confirmed(ctx, cb.User.ID, action.ActionID, action.Value, req)
	}, func() {
		r.logger.Warn("slack button overran its deadline", "user", cb.User.ID, "action", action.ActionID)
	})
	reply.ReplaceOriginal = true
	return reply, true
}

// withinDeadline runs answer with Slack's deadline. An answer that ignores
// its context must still not make Slack show a timeout: at the deadline the
// user is told, and answer finishes alone.
func withinDeadline(ctx context.Context, answer func(context.Context) Reply, overran func()) Reply {
	ctx, cancel := context.WithTimeout(ctx, commandDeadline)
	defer cancel()
	done := make(chan Reply, 1)
	go func() { done <- answer(ctx) }()
	select {
	case reply := <-done:
		return reply
	case <-ctx.Done():
		overran()
		return overrunReply
	}
}

// respondLater sends reply to responseURL in the background: the request
// or envelope that asked ends now, and the reply must still reach Slack.
func respondLater(ctx context.Context, respond Responder, responseURL string, reply Reply, logger *slog.Logger) {
	if responseURL == "" || respond == nil {
		return
	}
	go func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := respond.Respond(rctx, responseURL, reply); err != nil {
			logger.Warn("slack response_url failed", "err", err)
		}
	}()
}

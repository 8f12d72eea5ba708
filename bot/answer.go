package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/slackout"
)

// The one path from a Slack request to its reply, whichever transport
// brought it: HTTP (handler.go, interactions.go, events.go) and Socket Mode
// (socketmode.go) only decode what Slack sent and deliver what comes back.

// commandDeadline leaves Slack's 3-second limit room for the network.
var commandDeadline = 2500 * time.Millisecond // a var so tests need not wait for it

// overrunReply is the answer when a command is still running at the deadline.
var overrunReply = ephemeral("That is taking longer than Slack waits for; please try again in a moment.")

// commandRequest is the Request of a slash command: Slack sends the same
// fields as a form over HTTP and as JSON over Socket Mode.
func commandRequest(sc slack.SlashCommand) Request {
	return Request{
		UserID: sc.UserID, UserName: sc.UserName, ChannelID: sc.ChannelID, TeamID: sc.TeamID, EnterpriseID: sc.EnterpriseID,
		Text: sc.Text, ResponseURL: sc.ResponseURL, TriggerID: sc.TriggerID,
	}
}

// answerCommand dispatches a slash command and answers within Slack's
// deadline.
func (r *Registry) answerCommand(ctx context.Context, sc slack.SlashCommand) Reply {
	req := commandRequest(sc)
	if refusal, ok := r.fromOurWorkspace("command", req.TeamID, req.EnterpriseID, req.UserID); !ok {
		return refusal
	}
	return withinDeadline(ctx, func(ctx context.Context) Reply { return r.Dispatch(ctx, req) }, func() {
		r.logger.Warn("slack command overran its deadline", "user", req.UserID, "command", r.commandName(req.Text))
	})
}

// interactionAnswer is how an interaction is answered: the body of the
// HTTP response or of the Socket Mode acknowledgement, and a reply for the
// response_url.
type interactionAnswer struct {
	body    any    // a Reply (for local clients), a form's response_action, or nil for an empty 200
	respond *Reply // sent to url; nil: nothing
	url     string
}

// answerInteraction answers a pressed button or a submitted form within
// Slack's deadline. ok is false for interactions that are not ours, which
// need no more than an acknowledgement.
func (r *Registry) answerInteraction(ctx context.Context, cb slack.InteractionCallback) (interactionAnswer, bool) {
	switch {
	case cb.Type == slack.InteractionTypeBlockActions && len(cb.ActionCallback.BlockActions) > 0:
		return r.answerAction(ctx, cb), true
	case cb.Type == slack.InteractionTypeViewSubmission:
		body := within(ctx, func(ctx context.Context) any { return r.submit(ctx, cb) }, func() any {
			r.logger.Warn("slack form overran its deadline", "user", cb.User.ID, "form", cb.View.CallbackID)
			return formMessage("That is taking longer than Slack waits for; please try again in a moment.")
		})
		return interactionAnswer{body: body}, true
	}
	return interactionAnswer{}, false
}

// answerAction answers a pressed button: on a message, by a reply to its
// response_url (replacing a confirmation prompt, else a new message only
// the presser sees); on the App Home, in a small modal; in a form, by
// updating the form.
func (r *Registry) answerAction(ctx context.Context, cb slack.InteractionCallback) interactionAnswer {
	action := cb.ActionCallback.BlockActions[0]
	req := requestFrom(cb)
	if refusal, ok := r.fromOurWorkspace("interaction", req.TeamID, req.EnterpriseID, req.UserID); !ok {
		return interactionAnswer{body: refusal}
	}
	if cb.View.Type == slack.VTModal {
		within(ctx, func(ctx context.Context) bool { r.refreshForm(ctx, req, cb); return true }, func() bool {
			r.logger.Warn("slack form update overran its deadline", "user", cb.User.ID, "form", cb.View.CallbackID)
			return false
		})
		return interactionAnswer{}
	}
	mode, onPrompt := slackout.ParseActionID(action.ActionID)
	inv, known := slackout.ParseInvocation(action.Value)
	reply := withinDeadline(ctx, func(ctx context.Context) Reply {
		if !known {
			return ephemeral("I didn't understand that button.")
		}
		return r.pressed(ctx, req, mode, inv)
	}, func() {
		r.logger.Warn("slack button overran its deadline", "user", cb.User.ID, "action", action.ActionID)
	})
	if reply.Silent {
		return interactionAnswer{}
	}
	if cb.View.Type == slack.VTHomeTab {
		r.answerOnHome(ctx, req, reply)
		return interactionAnswer{}
	}
	reply.ReplaceOriginal = onPrompt
	return interactionAnswer{body: reply, respond: &reply, url: cb.ResponseURL}
}

// pressed runs what a button names, through the same checks as typing it.
func (r *Registry) pressed(ctx context.Context, req Request, mode string, inv slackout.Invocation) Reply {
	switch mode {
	case slackout.ModeKeep:
		return r.kept(req, inv)
	case slackout.ModeConfirm:
		return r.confirm(ctx, req, inv)
	}
	cmd, ok := r.command(inv.Cmd)
	if !ok {
		return ephemeral("I didn't understand that button.")
	}
	req.Args = inv.Args
	switch mode {
	case slackout.ModeRun:
		if len(req.Args) == 0 { // run, never a form
			req.TriggerID = ""
		}
		return r.invoke(ctx, req, cmd, "button")
	case slackout.ModeOpen:
		log := r.logger.With("user", req.UserID, "command", cmd.Name, "via", "button")
		if refusal, ok := r.permit(ctx, log, req.UserID, cmd); !ok {
			return refusal
		}
		return r.openForm(ctx, log, req, cmd, inv.Args)
	}
	return ephemeral("I didn't understand that button.")
}

// withinDeadline runs answer with Slack's deadline. An answer that ignores
// its context must still not make Slack show a timeout: at the deadline the
// user is told, and answer finishes alone.
func withinDeadline(ctx context.Context, answer func(context.Context) Reply, overran func()) Reply {
	return within(ctx, answer, func() Reply {
		overran()
		return overrunReply
	})
}

// within runs answer with Slack's deadline, or gives what overrun says.
func within[T any](ctx context.Context, answer func(context.Context) T, overrun func() T) T {
	ctx, cancel := context.WithTimeout(ctx, commandDeadline)
	defer cancel()
	done := make(chan T, 1)
	go func() { done <- answer(ctx) }()
	select {
	case v := <-done:
		return v
	case <-ctx.Done():
		return overrun()
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

// later runs f in the background after the acknowledgement, with time of
// its own: publishing a view does not hold up Slack's 3 seconds.
func later(ctx context.Context, f func(context.Context)) {
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		f(ctx)
	}()
}

package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/slackout"
)

// A destructive command asks first: its reply carries two buttons that say
// what each does ("Cancel the move" / "Keep it running"), never a bare
// Confirm and Cancel that can be read either way. Next-step buttons for
// destructive commands ask with Block Kit's confirm dialog instead
// (slackout.Confirmed), and then take the same confirmed path.

// withConfirmButtons adds the yes and no buttons of cmd to r.
func withConfirmButtons(r Reply, cmd Command, req Request) Reply {
	yes, no := cmd.Verbs(req)
	inv := slackout.Invocation{Cmd: cmd.Name, Args: req.Args}
	style := slack.StylePrimary
	if cmd.Name == "cancel" || cmd.Name == "contact remove" {
		style = slack.StyleDanger
	}
	if len(r.Blocks) == 0 {
		r.Blocks = []slack.Block{mrkdwnSection(r.Text)}
	}
	r.Blocks = append(r.Blocks, slackout.Actions("confirm_"+cmd.Name,
		slackout.Button{Label: yes, Mode: slackout.ModeConfirm, Inv: inv, Style: style, OnPrompt: true},
		slackout.Button{Label: no, Mode: slackout.ModeKeep, Inv: inv, OnPrompt: true},
	))
	return r
}

// confirm runs the confirmed step of the destructive command inv names,
// after checking again that the presser may run it and that its arguments
// are still well formed.
func (r *Registry) confirm(ctx context.Context, req Request, inv slackout.Invocation) Reply {
	cmd, ok := r.command(inv.Cmd)
	if !ok || cmd.Confirm == nil {
		return ephemeral("I didn't understand that button.")
	}
	log := r.logger.With("user", req.UserID, "command", cmd.Name, "via", "button")
	if refusal, ok := r.permit(ctx, log, req.UserID, cmd); !ok {
		return refusal
	}
	if argProblem(cmd, len(inv.Args)) != "" {
		return usageReply(cmd, "That button no longer matches the command.")
	}
	req.Args = inv.Args
	req = r.withDisplayName(ctx, req, cmd)
	req.Now = r.clock.Now()
	start := time.Now() //clock:wall measures the command for the log
	reply, err := run(ctx, cmd, req, cmd.Confirm)
	if err != nil {
		return failureReply(ctx, log, cmd, err)
	}
	log.Info("slack command", "outcome", "ok", "duration", time.Since(start)) //clock:wall measures the command for the log
	if reply.ResponseType == "" {
		reply.ResponseType = slack.ResponseTypeEphemeral
	}
	return reply
}

// kept answers a prompt's no button: nothing happens, and the answer says
// which choice that was.
func (r *Registry) kept(req Request, inv slackout.Invocation) Reply {
	cmd, ok := r.command(inv.Cmd)
	if !ok || cmd.Verbs == nil {
		return ephemeral("Nothing was changed.")
	}
	req.Args = inv.Args
	_, no := cmd.Verbs(req)
	return ephemeral(fmt.Sprintf("You chose “%s”: nothing was changed.", escape(no)))
}

// ConfirmValue returns the value of a prompt's yes button, when the reply
// asks for confirmation (for clients that press it themselves, like the
// `licensedesk slack --yes` command line).
func ConfirmValue(r Reply) (string, bool) {
	for _, b := range r.Blocks {
		a, ok := b.(*slack.ActionBlock)
		if !ok || a.Elements == nil {
			continue
		}
		for _, e := range a.Elements.ElementSet {
			if btn, ok := e.(*slack.ButtonBlockElement); ok && btn.ActionID == slackout.ModeConfirm {
				return btn.Value, true
			}
		}
	}
	return "", false
}

// Buttons lists the buttons of a reply with their action_ids and values,
// for clients that press them (tests, the command line).
func Buttons(r Reply) []*slack.ButtonBlockElement {
	var out []*slack.ButtonBlockElement
	for _, b := range r.Blocks {
		a, ok := b.(*slack.ActionBlock)
		if !ok || a.Elements == nil {
			continue
		}
		for _, e := range a.Elements.ElementSet {
			if btn, ok := e.(*slack.ButtonBlockElement); ok {
				out = append(out, btn)
			}
		}
	}
	return out
}

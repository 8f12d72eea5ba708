package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/slack-go/slack"
)

// Button action ids on confirmation prompts.
const (
	actionConfirm = "confirm"
	actionCancel  = "cancel"
)

// pendingCommand is what a confirmation button carries: the command and its
// arguments, re-checked in full when the button is pressed.
type pendingCommand struct {
	Cmd  string   `json:"cmd"`
	Args []string `json:"args"`
}

func withConfirmButtons(r Reply, cmd Command, args []string) Reply {
	value, _ := json.Marshal(pendingCommand{Cmd: cmd.Name, Args: args})
	confirm := slack.NewButtonBlockElement(actionConfirm, string(value), slack.NewTextBlockObject(slack.PlainTextType, "Confirm", false, false))
	confirm.Style = slack.StylePrimary
	if cmd.Name == "cancel" || cmd.Name == "contact remove" {
		confirm.Style = slack.StyleDanger
	}
	cancel := slack.NewButtonBlockElement(actionCancel, "", slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false))
	if len(r.Blocks) == 0 {
		r.Blocks = []slack.Block{mrkdwnSection(r.Text)}
	}
	r.Blocks = append(r.Blocks, slack.NewActionBlock("confirm_"+cmd.Name, confirm, cancel))
	return r
}

// Confirmed runs the Confirm of the command a pressed button names, after
// checking again that the presser may run it and that its arguments are
// still well formed. Cancel answers without doing anything.
func (r *Registry) Confirmed(ctx context.Context, userID, actionID, value string, req Request) Reply {
	if actionID == actionCancel {
		return Reply{ResponseType: slack.ResponseTypeEphemeral, Text: "Cancelled; nothing was started."}
	}
	var p pendingCommand
	if actionID != actionConfirm || json.Unmarshal([]byte(value), &p) != nil {
		return ephemeral("I didn't understand that button.")
	}
	i, ok := r.byName[p.Cmd]
	if !ok || r.cmds[i].Confirm == nil {
		return ephemeral("I didn't understand that button.")
	}
	cmd := r.cmds[i]
	log := r.logger.With("user", userID, "command", cmd.Name, "via", "button")
	allowed, err := r.Allowed(ctx, userID, cmd.Class)
	if err != nil || !allowed {
		log.Warn("slack confirmation refused", "err", err)
		return ephemeral(fmt.Sprintf("You are not allowed to run `%s`; ask an admin to add you to %s.", cmd.invocation(), cmd.Class.envName()))
	}
	if len(p.Args) < cmd.MinArgs || (cmd.MaxArgs != NoMax && len(p.Args) > cmd.MaxArgs) {
		return usageReply(cmd, "That confirmation no longer matches the command.")
	}
	req.UserID, req.Args, req.Now = userID, p.Args, r.clock.Now()
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

// ConfirmValue returns the value of a reply's Confirm button, when it asks
// for confirmation (for clients that press it themselves, like the
// `licensedesk slack --yes` command line).
func ConfirmValue(r Reply) (string, bool) {
	for _, b := range r.Blocks {
		a, ok := b.(*slack.ActionBlock)
		if !ok || a.Elements == nil {
			continue
		}
		for _, e := range a.Elements.ElementSet {
			if btn, ok := e.(*slack.ButtonBlockElement); ok && btn.ActionID == actionConfirm {
				return btn.Value, true
			}
		}
	}
	return "", false
}

package slackout

import (
	"encoding/json"
	"strings"

	"github.com/slack-go/slack"
)

// Buttons carry a /license command line. Pressing one runs that command
// through the bot's registry as if it had been typed: the same parsing,
// permission check and confirmation. This file is the wire format both
// sides share: the worker renders buttons on progress messages, the bot
// renders them on its replies and reads them back when one is pressed.

// What pressing a button does (the first part of its action_id).
const (
	// ModeRun runs the command as typed; a destructive one answers with
	// its confirmation prompt.
	ModeRun = "run"
	// ModeConfirm runs a destructive command's confirmed step: the
	// prompt's yes button, or a button whose Block Kit confirm dialog the
	// person has just accepted.
	ModeConfirm = "confirm"
	// ModeKeep is a prompt's no button: nothing is done.
	ModeKeep = "keep"
	// ModeOpen opens the command's form (a modal).
	ModeOpen = "open"
)

// Invocation is the command line a button carries (its value).
type Invocation struct {
	Cmd  string   `json:"cmd"`
	Args []string `json:"args"`
}

// Value encodes inv as a button value.
func (inv Invocation) Value() string {
	b, _ := json.Marshal(inv)
	return string(b)
}

// ParseInvocation reads a button value back.
func ParseInvocation(value string) (Invocation, bool) {
	var inv Invocation
	if json.Unmarshal([]byte(value), &inv) != nil || inv.Cmd == "" {
		return Invocation{}, false
	}
	return inv, true
}

// ActionID is the action_id of a button: its mode alone on a confirmation
// prompt (whose answer replaces the prompt), or its mode and the command
// on a next-step button (whose answer is a new message to the presser),
// which also keeps action_ids unique within a block as Slack requires.
func ActionID(mode, cmd string) string {
	if cmd == "" {
		return mode
	}
	return mode + ":" + strings.ReplaceAll(cmd, " ", "-")
}

// ParseActionID splits an action_id into its mode and whether the button
// sat on a confirmation prompt.
func ParseActionID(actionID string) (mode string, onPrompt bool) {
	mode, _, found := strings.Cut(actionID, ":")
	// "cancel" was the prompt's no button before it said what it keeps.
	if mode == "cancel" && !found {
		mode = ModeKeep
	}
	return mode, !found
}

// Dialog is Block Kit's confirm object: Slack asks before the press is sent.
type Dialog struct {
	Title, Text string // at most 100 and 300 characters
	Yes, No     string // at most 30 characters each
	Danger      bool
}

// Button is one button that runs a command.
type Button struct {
	Label  string // at most 75 characters
	Mode   string
	Inv    Invocation
	Style  slack.Style // "", primary or danger
	Dialog *Dialog
	// OnPrompt marks a confirmation prompt's own buttons.
	OnPrompt bool
}

// Element renders b.
func (b Button) Element() *slack.ButtonBlockElement {
	id := ActionID(b.Mode, b.Inv.Cmd)
	if b.OnPrompt {
		id = b.Mode
	}
	e := slack.NewButtonBlockElement(id, b.Inv.Value(), slack.NewTextBlockObject(slack.PlainTextType, Truncate(b.Label, 75), false, false))
	e.Style = b.Style
	if d := b.Dialog; d != nil {
		e.Confirm = slack.NewConfirmationBlockObject(
			slack.NewTextBlockObject(slack.PlainTextType, Truncate(d.Title, 100), false, false),
			slack.NewTextBlockObject(slack.MarkdownType, Truncate(d.Text, 300), false, false),
			slack.NewTextBlockObject(slack.PlainTextType, Truncate(d.Yes, 30), false, false),
			slack.NewTextBlockObject(slack.PlainTextType, Truncate(d.No, 30), false, false))
		if d.Danger {
			e.Confirm.WithStyle(slack.StyleDanger)
		}
	}
	return e
}

// Actions is an actions block of buttons (Slack takes at most 25).
func Actions(blockID string, buttons ...Button) *slack.ActionBlock {
	elems := make([]slack.BlockElement, 0, len(buttons))
	for _, b := range buttons {
		elems = append(elems, b.Element())
	}
	return slack.NewActionBlock(blockID, elems...)
}

// Run is a next-step button that runs cmd args as typed.
func Run(label, cmd string, args ...string) Button {
	return Button{Label: label, Mode: ModeRun, Inv: Invocation{Cmd: cmd, Args: args}}
}

// Open is a next-step button that opens cmd's form, filled with args.
func Open(label, cmd string, args ...string) Button {
	return Button{Label: label, Mode: ModeOpen, Inv: Invocation{Cmd: cmd, Args: args}}
}

// Confirmed is a next-step button for a destructive command that asks
// with d first, then runs the command's confirmed step.
func Confirmed(label, cmd string, d Dialog, args ...string) Button {
	return Button{Label: label, Mode: ModeConfirm, Inv: Invocation{Cmd: cmd, Args: args}, Dialog: &d}
}

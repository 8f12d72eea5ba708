package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
)

// helpCommand documents the registry from the registry itself, so a command
// cannot exist without appearing here, nor appear without existing.
func (r *Registry) helpCommand() Command {
	return Command{
		Name:    "help",
		Args:    "[subcommand]",
		Summary: "List every command, or explain one.",
		Class:   Read,
		MinArgs: 0,
		MaxArgs: NoMax, // subcommand names can be several words
		Run: func(ctx context.Context, req Request) (Reply, error) {
			if len(req.Args) == 0 {
				return r.helpAll(), nil
			}
			if cmd, n, ok := r.lookup(req.Args); ok && n == len(req.Args) {
				return helpOne(cmd), nil
			}
			if cmds := r.withPrefix(strings.ToLower(req.Args[0])); len(cmds) > 0 {
				return helpList(cmds), nil
			}
			return Reply{}, licensing.Errorf(licensing.Invalid, "There is no subcommand `%s`.", truncate(strings.Join(req.Args, " "), maxEcho))
		},
	}
}

func (r *Registry) helpAll() Reply {
	var read, act []Command
	for _, c := range r.cmds {
		if c.Class == Act {
			act = append(act, c)
		} else {
			read = append(read, c)
		}
	}
	var blocks []slack.Block
	var fallback []string
	for _, group := range []struct {
		title string
		cmds  []Command
	}{
		{"Look up (read permission)", read},
		{"Act (act permission)", act},
	} {
		if len(group.cmds) == 0 {
			continue
		}
		lines := []string{"*" + group.title + "*"}
		for _, c := range group.cmds {
			lines = append(lines, helpLine(c))
			fallback = append(fallback, escape(c.Usage()))
		}
		blocks = append(blocks, mrkdwnSection(strings.Join(lines, "\n")))
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwnText(
		fmt.Sprintf("`%s help &lt;subcommand&gt;` explains one command.", slashCommand))))
	return Reply{
		ResponseType: slack.ResponseTypeEphemeral,
		Text:         "Commands: " + strings.Join(fallback, ", "),
		Blocks:       blocks,
	}
}

func helpList(cmds []Command) Reply {
	lines := make([]string, len(cmds))
	usages := make([]string, len(cmds))
	for i, c := range cmds {
		lines[i] = helpLine(c)
		usages[i] = escape(c.Usage())
	}
	return Reply{
		ResponseType: slack.ResponseTypeEphemeral,
		Text:         strings.Join(usages, ", "),
		Blocks:       []slack.Block{mrkdwnSection(strings.Join(lines, "\n"))},
	}
}

func helpOne(c Command) Reply {
	lines := []string{c.usageMrkdwn(), escape(c.Summary)}
	if c.Class == Act {
		lines = append(lines, "Needs act permission.")
	} else {
		lines = append(lines, "Needs read permission (act permission includes it).")
	}
	if c.Destructive {
		lines = append(lines, "Asks for confirmation before anything starts.")
	}
	if c.Modal != nil {
		lines = append(lines, fmt.Sprintf("Without arguments, `%s` opens a form.", c.invocation()))
	}
	return Reply{
		ResponseType: slack.ResponseTypeEphemeral,
		Text:         escape(c.Usage()) + ": " + escape(c.Summary),
		Blocks:       []slack.Block{mrkdwnSection(strings.Join(lines, "\n"))},
	}
}

func helpLine(c Command) string {
	line := c.usageMrkdwn() + " — " + escape(c.Summary)
	switch {
	case c.Destructive && c.Modal != nil:
		line += " (asks for confirmation; without arguments, a form)"
	case c.Destructive:
		line += " (asks for confirmation)"
	case c.Modal != nil:
		line += " (without arguments, a form)"
	}
	return line
}

package slackout

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"licensedesk/operation"
)

// An operation's progress message, rendered from its status (plain data):
// the worker's reports post it, and /license status shows the same.

var stepMarks = map[operation.StepState]string{
	operation.Pending: "○",
	operation.Active:  "▶",
	operation.Done:    "✓",
	operation.Skipped: "–",
	operation.Failed:  "✗",
}

// ProgressText is the one-line fallback of a progress message.
func ProgressText(st operation.Status) string {
	if st.Done {
		return fmt.Sprintf("%s: %s. %s", st.Summary, st.Outcome, st.Message)
	}
	return fmt.Sprintf("%s: %s", st.Summary, st.Current().Title)
}

// ProgressBlocks renders an operation's status: title, steps with marks,
// who it waits on and until when, and a link to the workflow.
func ProgressBlocks(st operation.Status, workflowURL string) []slack.Block {
	title := st.Summary
	if st.Done {
		title += " — " + string(st.Outcome)
	}
	var steps strings.Builder
	for _, s := range st.Steps {
		fmt.Fprintf(&steps, "%s %s\n", stepMarks[s.State], Escape(s.Title))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, Truncate(title, 150), false, false)),
		MrkdwnSection(strings.TrimRight(steps.String(), "\n")),
	}
	var facts []string
	if !st.Done && len(st.WaitingOn) > 0 {
		facts = append(facts, fmt.Sprintf("*Next:* %s — waiting on %s until %s",
			Escape(st.Current().Title), Escape(strings.Join(st.WaitingOn, ", ")), st.Deadline.UTC().Format("2006-01-02 15:04 MST")))
	} else if !st.Done {
		now := "*Now:* " + Escape(st.Current().Title)
		if !st.Deadline.IsZero() {
			now += " — until " + st.Deadline.UTC().Format("2006-01-02 15:04 MST")
		}
		facts = append(facts, now)
	}
	if st.Done && st.Message != "" {
		facts = append(facts, Escape(st.Message))
	}
	if len(facts) > 0 {
		blocks = append(blocks, MrkdwnSection(strings.Join(facts, "\n")))
	}
	ctx := "Started by " + st.StartedBy + " · `" + Escape(st.WorkflowID) + "`"
	if workflowURL != "" {
		ctx += " · <" + workflowURL + "|Temporal UI>"
	}
	blocks = append(blocks, slack.NewContextBlock("", MrkdwnText(ctx)))
	return blocks
}

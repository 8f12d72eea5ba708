package bot

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
	"licensedesk/operation"
)

// WorkflowURL links to a workflow in the Temporal UI; "" when no UI is known.
func WorkflowURL(uiURL, namespace, workflowID, runID string) string {
	if uiURL == "" {
		return ""
	}
	u := strings.TrimRight(uiURL, "/") + "/namespaces/" + url.PathEscape(namespace) + "/workflows/" + url.PathEscape(workflowID)
	if runID != "" {
		u += "/" + url.PathEscape(runID) + "/history"
	}
	return u
}

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
		fmt.Fprintf(&steps, "%s %s\n", stepMarks[s.State], escape(s.Title))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(title, 150), false, false)),
		mrkdwnSection(strings.TrimRight(steps.String(), "\n")),
	}
	var facts []string
	if !st.Done && len(st.WaitingOn) > 0 {
		facts = append(facts, fmt.Sprintf("*Next:* %s — waiting on %s until %s",
			escape(st.Current().Title), escape(strings.Join(st.WaitingOn, ", ")), st.Deadline.UTC().Format("2006-01-02 15:04 MST")))
	} else if !st.Done {
		now := "*Now:* " + escape(st.Current().Title)
		if !st.Deadline.IsZero() {
			now += " — until " + st.Deadline.UTC().Format("2006-01-02 15:04 MST")
		}
		facts = append(facts, now)
	}
	if st.Done && st.Message != "" {
		facts = append(facts, escape(st.Message))
	}
	if len(facts) > 0 {
		blocks = append(blocks, mrkdwnSection(strings.Join(facts, "\n")))
	}
	ctx := "Started by " + st.StartedBy + " · `" + escape(st.WorkflowID) + "`"
	if workflowURL != "" {
		ctx += " · <" + workflowURL + "|Temporal UI>"
	}
	blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, ctx, false, false)))
	return blocks
}

func statusListReply(sen licensing.SEN, list []operation.Status, ops Operations) Reply {
	if len(list) == 0 {
		return ephemeral(fmt.Sprintf("No operations in flight for %s.", sen))
	}
	blocks := []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType,
		fmt.Sprintf("%d operation(s) in flight for %s", len(list), sen), false, false))}
	for _, st := range list {
		line := fmt.Sprintf("*%s* — %s", escape(st.Summary), escape(st.Current().Title))
		switch {
		case len(st.WaitingOn) > 0:
			line += fmt.Sprintf(" (waiting on %s until %s)", escape(strings.Join(st.WaitingOn, ", ")), st.Deadline.UTC().Format("2006-01-02"))
		case !st.Deadline.IsZero():
			line += fmt.Sprintf(" (until %s)", st.Deadline.UTC().Format("2006-01-02"))
		}
		if u := ops.URL(st.WorkflowID, st.RunID); u != "" {
			line += fmt.Sprintf("\n<%s|%s>", u, escape(st.WorkflowID))
		} else {
			line += "\n`" + escape(st.WorkflowID) + "`"
		}
		blocks = append(blocks, mrkdwnSection(line))
	}
	return Reply{ResponseType: slack.ResponseTypeEphemeral, Text: fmt.Sprintf("%d operation(s) in flight for %s", len(list), sen), Blocks: blocks}
}

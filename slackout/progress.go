package slackout

import (
	"fmt"
	"strings"
	"time"

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
// who it waits on and until when, a link to the workflow, and the buttons
// for what can be done next.
func ProgressBlocks(st operation.Status, workflowURL string) []slack.Block {
	title := st.Summary
	if st.Done {
		title += " — " + string(st.Outcome)
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, Truncate(title, 150), false, false)),
		MrkdwnSection(stepLines(st)),
	}
	var facts []string
	if !st.Done && len(st.WaitingOn) > 0 {
		facts = append(facts, fmt.Sprintf("*Next:* %s — waiting on %s until %s",
			Escape(st.Current().Title), Escape(strings.Join(st.WaitingOn, ", ")), Date(st.Deadline)))
	} else if !st.Done {
		now := "*Now:* " + Escape(st.Current().Title)
		if !st.Deadline.IsZero() {
			now += " — until " + Date(st.Deadline)
		}
		facts = append(facts, now)
	}
	if st.Done && st.Message != "" {
		facts = append(facts, EscapeKeepMentions(st.Message))
	}
	if len(facts) > 0 {
		blocks = append(blocks, MrkdwnSection(strings.Join(facts, "\n")))
	}
	ctx := "Started by " + EscapeKeepMentions(st.StartedBy) + " · " + WorkflowLink(st.WorkflowID, workflowURL)
	blocks = append(blocks, slack.NewContextBlock("", MrkdwnText(ctx)))
	if buttons := NextSteps(st); len(buttons) > 0 {
		blocks = append(blocks, Actions("next_"+blockKey(st.WorkflowID), buttons...))
	}
	return blocks
}

// stepLines lists the steps with their marks. The step a cancelled or
// expired operation stopped at is not marked as refused: nobody refused.
func stepLines(st operation.Status) string {
	var b strings.Builder
	for _, s := range st.Steps {
		mark, note := stepMarks[s.State], ""
		if s.State == operation.Failed && st.Done {
			switch st.Outcome {
			case operation.Cancelled:
				mark, note = "■", " (stopped here: cancelled)"
			case operation.Expired:
				mark, note = "■", " (stopped here: no answer in time)"
			}
		}
		fmt.Fprintf(&b, "%s %s%s\n", mark, Escape(s.Title), note)
	}
	return strings.TrimRight(b.String(), "\n")
}

// NextSteps are the buttons for what can be done with an operation: while
// it waits, resend its link, cancel it, show its licence; once it ended,
// show the licence and its history.
func NextSteps(st operation.Status) []Button {
	var out []Button
	kind, _ := operation.KindOf(st.WorkflowID)
	if !st.Done && len(st.WaitingOn) > 0 {
		out = append(out, Run("Resend link", "resend", st.WorkflowID))
	}
	if !st.Done && kind != "" && kind.Cancellable() {
		yes, no := CancelVerbs(kind)
		b := Confirmed("Cancel…", "cancel", Dialog{
			Title: Truncate(yes+"?", 100),
			Text:  Truncate("“"+Escape(st.Summary)+"” stops, and what it already did is undone where it can be.", 300),
			Yes:   yes, No: no, Danger: true,
		}, st.WorkflowID)
		b.Style = slack.StyleDanger
		out = append(out, b)
	}
	if st.SEN != "" {
		out = append(out, Run("Show licence", "show", st.SEN))
		if st.Done {
			out = append(out, Run("History", "history", st.SEN))
		}
	}
	return out
}

// CancelVerbs label the buttons that cancel an operation of kind, or keep
// it: "Cancel the move" / "Keep it running".
func CancelVerbs(kind operation.Kind) (yes, no string) {
	return "Cancel the " + operationNoun(kind), "Keep it running"
}

func operationNoun(kind operation.Kind) string {
	switch kind {
	case operation.KindMove:
		return "move"
	case operation.KindVerify:
		return "verification"
	case operation.KindContactAdd:
		return "contact addition"
	case operation.KindContactRemove:
		return "removal"
	case operation.KindCard:
		return "card update"
	case operation.KindPromote, operation.KindPromoteSelf:
		return "promotion"
	}
	return "operation"
}

// WorkflowLink is a workflow ID as code, linked to the Temporal UI when
// there is one.
func WorkflowLink(workflowID, url string) string {
	if url == "" {
		return "`" + Escape(workflowID) + "`"
	}
	return "<" + url + "|" + Escape(workflowID) + ">"
}

// Date is a time as Slack shows it in each reader's own zone
// (<!date^…>), with a UTC fallback for clients that cannot.
func Date(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// blockKey makes a block_id part from a workflow ID (255 characters at most).
func blockKey(id string) string { return Truncate(id, 200) }

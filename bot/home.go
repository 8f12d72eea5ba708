package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/internal/clock"
	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/slackout"
)

// The App Home tab (views.publish on app_home_opened): the operations in
// flight, the person's own first; those waiting on a customer for more
// than three days; and the latest billing digest, each line with its
// buttons. It is built when the person opens it, and again after they
// press one of its buttons.

// OperationLister lists operations in flight and reads their status.
type OperationLister interface {
	InFlight(ctx context.Context, q operation.InFlightQuery) ([]operation.Running, error)
	Status(ctx context.Context, workflowID string) (operation.Status, error)
}

// BillingDigest is the latest summary of billing: a sentence, and the
// licences that need sales.
type BillingDigest struct {
	At      time.Time
	Summary string // plain text
	Items   []DigestItem
}

// DigestItem is one licence in a digest.
type DigestItem struct {
	SEN  licensing.SEN
	Text string // plain text
}

// DigestReader reads the latest billing digest made since a time; nil
// when there is none.
type DigestReader interface {
	LatestDigest(ctx context.Context, since time.Time) (*BillingDigest, error)
}

// Home builds the App Home tab.
type Home struct {
	Ops    OperationLister
	Digest DigestReader // nil: no billing section
	// URL links a workflow to the Temporal UI ("" when there is none).
	URL func(workflowID string) string
	Now clock.Clock
}

// Home's bounds: what is listed to pick from, and what is shown.
const (
	homeListed    = 200 // newest operations in flight read to put the person's first
	homeShown     = 10  // operations in flight shown
	homeWaitShown = 10  // long waits shown
	homeWaitTried = 30  // statuses read to find them
	homeDigest    = 8   // digest lines shown
)

// WaitingTooLong is how long an operation may wait on a customer before
// the App Home lists it.
const WaitingTooLong = 3 * 24 * time.Hour

// View is userID's App Home.
func (h *Home) View(ctx context.Context, userID string) slack.HomeTabViewRequest {
	now := h.Now.Now()
	blocks := []slack.Block{}
	blocks = append(blocks, h.inFlight(ctx, userID)...)
	blocks = append(blocks, slack.NewDividerBlock())
	blocks = append(blocks, h.waiting(ctx, now)...)
	if h.Digest != nil {
		blocks = append(blocks, slack.NewDividerBlock())
		blocks = append(blocks, h.digest(ctx, now)...)
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwnText("Updated "+slackout.Date(now)+
		". `/license help` lists every command; `/license status &lt;SEN&gt;` lists one licence's operations.")))
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, CallbackID: "home", Blocks: slack.Blocks{BlockSet: blocks}}
}

func header(text string) slack.Block {
	return slack.NewHeaderBlock(plainText(truncate(text, maxHeaderRunes)))
}

// inFlight lists the operations in flight, the person's own first.
func (h *Home) inFlight(ctx context.Context, userID string) []slack.Block {
	blocks := []slack.Block{header("Operations in flight")}
	list, err := h.Ops.InFlight(ctx, operation.InFlightQuery{Limit: homeListed})
	if err != nil {
		return append(blocks, mrkdwnSection("I could not list the operations in flight just now; open this tab again in a minute."))
	}
	mine := "<@" + userID + ">"
	var ordered []operation.Running
	for _, own := range []bool{true, false} {
		for _, op := range list {
			if (op.StartedBy == mine) == own {
				ordered = append(ordered, op)
			}
		}
	}
	if len(ordered) == 0 {
		return append(blocks, mrkdwnSection("Nothing in flight."))
	}
	shown, looked := 0, 0
	for _, op := range ordered {
		if shown == homeShown {
			break
		}
		looked++
		st, err := h.Ops.Status(ctx, op.WorkflowID)
		if err != nil || st.Done {
			continue // ended between the listing and now
		}
		shown++
		line := opLine(st, h.url(st.WorkflowID))
		if op.StartedBy == mine {
			line = "*Yours* · " + line
		}
		blocks = append(append(blocks, mrkdwnSection(line)), nextStepBlock("home_", st)...)
	}
	if shown == 0 {
		blocks = append(blocks, mrkdwnSection("Nothing in flight."))
	}
	if rest := len(ordered) - looked; rest > 0 {
		more := fmt.Sprintf("%d more in flight.", rest)
		if len(list) == homeListed {
			more = fmt.Sprintf("At least %d more in flight.", rest)
		}
		blocks = append(blocks, slack.NewContextBlock("", mrkdwnText(more)))
	}
	return blocks
}

// waiting lists operations that have waited on a customer for too long.
func (h *Home) waiting(ctx context.Context, now time.Time) []slack.Block {
	blocks := []slack.Block{header("Waiting on a customer for more than 3 days")}
	list, err := h.Ops.InFlight(ctx, operation.InFlightQuery{StartedBefore: now.Add(-WaitingTooLong), Limit: homeWaitTried})
	if err != nil {
		return append(blocks, mrkdwnSection("I could not list them just now; open this tab again in a minute."))
	}
	shown := 0
	for _, op := range list {
		if shown == homeWaitShown {
			break
		}
		st, err := h.Ops.Status(ctx, op.WorkflowID)
		if err != nil || st.Done || len(st.WaitingOn) == 0 {
			continue
		}
		shown++
		line := opLine(st, h.url(st.WorkflowID)) + "\nStarted " + slackout.Date(op.StartedAt)
		blocks = append(append(blocks, mrkdwnSection(line)), nextStepBlock("wait_", st)...)
	}
	if shown == 0 {
		blocks = append(blocks, mrkdwnSection("None: every customer answered within 3 days."))
	}
	return blocks
}

// digest shows the latest billing digest of the day.
func (h *Home) digest(ctx context.Context, now time.Time) []slack.Block {
	blocks := []slack.Block{header("Billing today")}
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	d, err := h.Digest.LatestDigest(ctx, day)
	switch {
	case err != nil:
		return append(blocks, mrkdwnSection("I could not read today's billing digest just now."))
	case d == nil:
		return append(blocks, mrkdwnSection("No billing digest yet today."))
	}
	blocks = append(blocks, mrkdwnSection(escape(d.Summary)), slack.NewContextBlock("", mrkdwnText("As of "+slackout.Date(d.At)+".")))
	for i, it := range d.Items {
		if i == homeDigest {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwnText(fmt.Sprintf("…and %d more.", len(d.Items)-homeDigest))))
			break
		}
		s := mrkdwnSection("*" + escape(string(it.SEN)) + "* " + escape(it.Text))
		s.Accessory = slack.NewAccessory(slackout.Run("Show licence", "show", string(it.SEN)).Element())
		blocks = append(blocks, s)
	}
	return blocks
}

// nextStepBlock is the buttons of st, if it has any, in a block whose ID
// starts with prefix (block IDs are unique within a view).
func nextStepBlock(prefix string, st operation.Status) []slack.Block {
	buttons := slackout.NextSteps(st)
	if len(buttons) == 0 {
		return nil
	}
	return []slack.Block{slackout.Actions(prefix+truncate(st.WorkflowID, 200), buttons...)}
}

func (h *Home) url(workflowID string) string {
	if h.URL == nil {
		return ""
	}
	return h.URL(workflowID)
}

// opLine is one operation in a sentence: what, where it stands, who it
// waits on until when, and its workflow.
func opLine(st operation.Status, url string) string {
	line := fmt.Sprintf("*%s* — %s", escape(st.Summary), escape(st.Current().Title))
	switch {
	case len(st.WaitingOn) > 0:
		line += fmt.Sprintf(" (waiting on %s until %s)", escape(strings.Join(st.WaitingOn, ", ")), slackout.Date(st.Deadline))
	case !st.Deadline.IsZero():
		line += " (until " + slackout.Date(st.Deadline) + ")"
	}
	return line + "\n" + slackout.WorkflowLink(st.WorkflowID, url) + " · started by " + slackout.EscapeKeepMentions(st.StartedBy)
}

// publishHome builds and publishes userID's App Home.
func (r *Registry) publishHome(ctx context.Context, userID string) {
	if r.home == nil || r.views == nil {
		return
	}
	start := time.Now() //clock:wall measures the publish for the log
	if err := r.views.PublishHome(ctx, userID, r.home.View(ctx, userID)); err != nil {
		r.logger.Warn("slack app home not published", "user", userID, "err", err)
		return
	}
	r.logger.Info("slack app home published", "user", userID, "duration", time.Since(start)) //clock:wall measures the publish for the log
}

// answerOnHome shows the answer to a button on the App Home in a small
// modal (the Home tab has no response_url), then refreshes the tab.
func (r *Registry) answerOnHome(ctx context.Context, req Request, reply Reply) {
	if r.views == nil {
		return
	}
	if _, err := r.views.OpenView(ctx, req.TriggerID, *resultView(formTitle, reply)); err != nil {
		r.logger.Warn("slack answer on the app home not shown", "user", req.UserID, "err", err)
	}
	later(ctx, func(ctx context.Context) { r.publishHome(ctx, req.UserID) })
}

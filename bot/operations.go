package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/slackout"
)

// Workflows starts and inspects operations (licensedesk's workflows); the
// bot knows nothing of Temporal beyond this.
type Workflows interface {
	Start(ctx context.Context, req operation.StartRequest) (operation.Started, error)
	Status(ctx context.Context, workflowID string) (operation.Status, error)
	Running(ctx context.Context, sen licensing.SEN) ([]operation.Status, error)
	Cancel(ctx context.Context, workflowID, by string) error
	// ChargeNow retries the licence's outstanding invoice at once and
	// answers with its number.
	ChargeNow(ctx context.Context, sen licensing.SEN, slackUser string) (string, error)
	// Resend mails a fresh link for the step a running operation waits
	// on, to email or (empty) everyone it waits on, and says who got one.
	Resend(ctx context.Context, workflowID string, email licensing.Email, slackUser string) ([]licensing.Email, error)
	// URL links to a workflow in the Temporal UI.
	URL(workflowID, runID string) string
}

// OperationCommands returns verify, move, contact add/remove, card,
// charge, status, cancel and resend: the commands that start or steer
// operations (one file each).
func OperationCommands(licenses LicenseReader, ops Workflows) []Command {
	return []Command{
		VerifyCommand(licenses, ops),
		MoveCommand(licenses, ops),
		ContactAddCommand(licenses, ops),
		ContactRemoveCommand(licenses, ops),
		CardCommand(licenses, ops),
		ChargeCommand(licenses, ops),
		StatusCommand(ops),
		CancelCommand(ops),
		ResendCommand(ops),
	}
}

// startRequest is sr on behalf of who asks: their Slack ID and display
// name, and the channel for the progress message.
func startRequest(req Request, sr operation.StartRequest) operation.StartRequest {
	sr.SlackUser, sr.SlackUserName, sr.Channel = req.UserID, req.UserDisplayName, req.ChannelID
	return sr
}

// start starts an operation and answers with a link to it, or to the one
// already running. then (mrkdwn) is added to the answer when it started.
func start(ctx context.Context, ops Workflows, req operation.StartRequest, what string, then ...string) (Reply, error) {
	s, err := ops.Start(ctx, req)
	if err != nil {
		return Reply{}, err
	}
	url := ops.URL(s.WorkflowID, s.RunID)
	if s.AlreadyRunning {
		return ephemeral(fmt.Sprintf("%s is already running; nothing new was started. %s", escape(what), slackout.WorkflowLink(s.WorkflowID, url))), nil
	}
	where := "progress is posted in this channel"
	if req.Channel == "" {
		where = "`/license status " + escape(s.WorkflowID) + "` shows its progress"
	}
	text := fmt.Sprintf("%s started: %s. %s", escape(what), where, slackout.WorkflowLink(s.WorkflowID, url))
	for _, t := range then {
		text += "\n" + t
	}
	return ephemeral(text), nil
}

// alreadyRunning answers at once, before any confirmation, when the
// operation id names is in flight: sending the same command twice says so
// rather than asking again. ok is false when it is not running (or its
// status cannot be read: the confirmed step finds out again).
func alreadyRunning(ctx context.Context, ops Workflows, id, what string) (Reply, bool) {
	st, err := ops.Status(ctx, id)
	if err != nil || st.Done || st.WorkflowID == "" {
		return Reply{}, false
	}
	text := fmt.Sprintf("%s is already running (at: %s); nothing new was started. %s",
		escape(what), escape(st.Current().Title), slackout.WorkflowLink(id, ops.URL(id, st.RunID)))
	r := Reply{ResponseType: slack.ResponseTypeEphemeral, Text: text, Final: true, Blocks: []slack.Block{mrkdwnSection(text)}}
	if buttons := slackout.NextSteps(st); len(buttons) > 0 {
		r.Blocks = append(r.Blocks, slackout.Actions("next_"+truncate(id, 200), buttons...))
	}
	return r, true
}

// ended says what happened to an operation that has ended, for a button
// pressed after the end: its outcome and how it ended.
func ended(st operation.Status) error {
	msg := fmt.Sprintf("“%s” has already ended: %s.", st.Summary, st.Outcome)
	if st.Message != "" {
		msg += " " + st.Message
	}
	return licensing.Errorf(licensing.FailedPrecondition, "%s", msg)
}

// workflowID checks arg names one of our operations, e.g. move/SEN-1000001/x@y.test.
func workflowID(arg string) (string, error) {
	if _, ok := operation.KindOf(arg); ok {
		return arg, nil
	}
	return "", licensing.Errorf(licensing.Invalid, "%q is neither a SEN nor an operation id (like move/SEN-1000001/new@example.com)", truncate(arg, maxEcho))
}

func senAndEmail(senArg, emailArg string) (licensing.SEN, licensing.Email, error) {
	sen, err := licensing.ParseSEN(senArg)
	if err != nil {
		return "", "", asInvalid(err)
	}
	email, err := licensing.ParseEmail(emailArg)
	if err != nil {
		return "", "", asInvalid(err)
	}
	return sen, email, nil
}

func contactArgs(args []string) (licensing.SEN, licensing.Role, licensing.Email, error) {
	sen, email, err := senAndEmail(args[0], args[2])
	if err != nil {
		return "", "", "", err
	}
	role, err := licensing.ParseRole(args[1])
	if err != nil {
		return "", "", "", asInvalid(err)
	}
	return sen, role, email, nil
}

// notInvalid keeps a domain rule's refusal (say, --from is not a contact)
// from being shown as a usage problem: the syntax was fine.
func notInvalid(err error) error {
	if licensing.ErrorCode(err) == licensing.Invalid {
		return licensing.Errorf(licensing.FailedPrecondition, "%s", licensing.ErrorMessage(err))
	}
	return err
}

func roleWords(roles []licensing.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, " and ")
}

func emailWords(list []licensing.Email) string {
	s := make([]string, len(list))
	for i, e := range list {
		s[i] = string(e)
	}
	return strings.Join(s, " or ")
}

func verbS(list []licensing.Email) string {
	if len(list) == 1 {
		return "s"
	}
	return ""
}

// slackSafe escapes text for mrkdwn but keeps the mentions operations use.
var slackSafe = slackout.EscapeKeepMentions

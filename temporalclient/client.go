// Package temporalclient is licensedesk's Temporal client: it dials the
// server (with the SDK's logs and metrics) and starts, queries, signals and
// cancels operations for the front ends (Slack commands, link pages, the
// account page, the payment webhook).
package temporalclient

import (
	"context"
	"errors"
	"fmt"
	"go.temporal.io/sdk/converter"
	"log/slog"
	"slices"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/postgres"
	"licensedesk/workflows"
)

// Client starts and inspects operations; it implements bot.Workflows.
type Client struct {
	Temporal  client.Client
	TaskQueue string
	Namespace string
	UIURL     string
	Timing    workflows.Timing // zero: the defaults (remind after 3 days, expire after 14)
	// Policy is the dunning schedule of collections (zero: the default).
	Policy licensing.DunningSchedule
	// SweepEvery is how often the billing sweep runs (default 5 minutes).
	SweepEvery time.Duration
	// AlertChannel is where billing alerts go (SLACK_CHANNEL).
	AlertChannel string
	Invoices     interface {
		OpenInvoice(ctx context.Context, sen licensing.SEN) (postgres.Invoice, error)
		Invoice(ctx context.Context, number string) (postgres.Invoice, error)
	}
	// History records who asked for each operation started (postgres.DB);
	// nil records nothing.
	History interface {
		RecordRequest(ctx context.Context, by licensing.Actor, sen licensing.SEN, kind string) error
	}
	Logger *slog.Logger // [slog.Default()]
	// DataConverter reads what the listing returns (memos), as the dialled
	// client does: with TEMPORAL_CODEC_KEYS the memos are encrypted
	// [converter.GetDefaultDataConverter()].
	DataConverter converter.DataConverter
}

func (c *Client) dataConverter() converter.DataConverter {
	if c.DataConverter != nil {
		return c.DataConverter
	}
	return converter.GetDefaultDataConverter()
}

// Start starts the operation, or finds the same one already running: the
// workflow ID is built from the request.
func (c *Client) Start(ctx context.Context, req operation.StartRequest) (operation.Started, error) {
	by := workflows.Requester{SlackUser: req.SlackUser, Name: req.SlackUserName, Email: req.ByEmail, Channel: req.Channel}
	l := launch{Kind: req.Kind, SEN: req.SEN}
	switch req.Kind {
	case operation.KindMove:
		l.ID, l.Fn = operation.MoveID(req.Move.SEN, req.Move.NewEmail), workflows.Move
		l.Arg = workflows.MoveInput{Request: req.Move, By: by, Timing: c.Timing}
		l.SEN, l.People = req.Move.SEN, []licensing.Email{req.Move.NewEmail}
	case operation.KindVerify:
		l.ID, l.Fn = operation.VerifyID(req.SEN, req.Email), workflows.Verify
		l.Arg = workflows.VerifyInput{SEN: req.SEN, Requester: req.Email, By: by, Timing: c.Timing, Scope: req.Scope}
		l.People = []licensing.Email{req.Email}
	case operation.KindContactAdd:
		l.ID, l.Fn = operation.ContactAddID(req.SEN, req.Role, req.Email), workflows.ContactAdd
		l.Arg = workflows.ContactInput{SEN: req.SEN, Role: req.Role, Email: req.Email, By: by, Timing: c.Timing, OfferPrimary: req.OfferPrimary}
		l.People = []licensing.Email{req.Email}
	case operation.KindCard:
		l.ID, l.Fn = operation.CardUpdateID(req.SEN), workflows.CardUpdate
		l.Arg = workflows.CardUpdateInput{SEN: req.SEN, By: by}
	case operation.KindContactRemove:
		l.ID, l.Fn = operation.ContactRemoveID(req.SEN, req.Role, req.Email), workflows.ContactRemove
		l.Arg = workflows.ContactInput{SEN: req.SEN, Role: req.Role, Email: req.Email, By: by, Timing: c.Timing}
		l.People = []licensing.Email{req.Email}
	default:
		return operation.Started{}, fmt.Errorf("temporalclient: %q is not an operation people start", req.Kind)
	}
	l.Memo = map[string]any{"started_by": by.String()}
	started, err := c.launch(ctx, l)
	if err == nil && !started.AlreadyRunning && c.History != nil {
		actor := licensing.Actor{Kind: "slack", ID: req.SlackUser, WorkflowID: started.WorkflowID}
		if req.SlackUser == "" {
			actor.Kind, actor.ID = "account", req.ByEmail
		}
		if herr := c.History.RecordRequest(ctx, actor, l.SEN, string(req.Kind)); herr != nil {
			c.logger().WarnContext(ctx, "request not recorded in the history", "workflow_id", started.WorkflowID, "err", herr)
		}
	}
	return started, err
}

func (c *Client) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// Status asks a workflow (running or finished) for its status.
func (c *Client) Status(ctx context.Context, workflowID string) (operation.Status, error) {
	v, err := c.Temporal.QueryWorkflow(ctx, workflowID, "", workflows.StatusQuery)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return operation.Status{}, licensing.Errorf(licensing.NotFound, "No operation %s found.", workflowID)
	}
	if err != nil {
		return operation.Status{}, err
	}
	var st operation.Status
	err = v.Get(&st)
	return st, err
}

// Running lists the operations in flight for a licence, oldest first,
// through the LicenseSEN search attribute.
func (c *Client) Running(ctx context.Context, sen licensing.SEN) ([]operation.Status, error) {
	query := fmt.Sprintf(`LicenseSEN = %q AND ExecutionStatus = "Running"`, string(sen))
	var out []operation.Status
	var token []byte
	for {
		resp, err := c.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: c.Namespace, Query: query, PageSize: 100, NextPageToken: token,
		})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.Executions {
			st, err := c.Status(ctx, e.Execution.WorkflowId)
			if err != nil {
				continue // finished between the listing and the query
			}
			st.RunID = e.Execution.RunId
			out = append(out, st)
		}
		if token = resp.NextPageToken; len(token) == 0 {
			break
		}
	}
	slices.Reverse(out) // visibility lists newest first
	return out, nil
}

// Cancel records who cancels (the workflow reports it), then cancels.
// Billing and collections are refused (operation.Kind.Cancellable).
func (c *Client) Cancel(ctx context.Context, workflowID, by string) error {
	if kind, ok := operation.KindOf(workflowID); !ok || !kind.Cancellable() {
		return licensing.Errorf(licensing.FailedPrecondition, "%s can't be cancelled.", workflowID)
	}
	if err := c.Temporal.SignalWorkflow(ctx, workflowID, "", workflows.CancelReasonSignal, by); err != nil {
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return licensing.Errorf(licensing.NotFound, "No running operation %s.", workflowID)
		}
		return err
	}
	return c.Temporal.CancelWorkflow(ctx, workflowID, "")
}

// Resend asks a running operation to mail a fresh link for the step it
// waits on (workflows.ResendUpdate); its refusals (not waiting, not that
// person, too soon) come back as domain errors with the reason.
func (c *Client) Resend(ctx context.Context, workflowID string, email licensing.Email, slackUser string) ([]licensing.Email, error) {
	h, err := c.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: workflows.ResendUpdate, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{workflows.ResendInput{Email: email, By: slackUser}},
	})
	var res workflows.ResendResult
	if err == nil {
		err = h.Get(ctx, &res)
	}
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return nil, licensing.Errorf(licensing.NotFound, "No running operation %s.", workflowID)
	case temporalerr.ToDomain(err) != nil:
		return nil, temporalerr.ToDomain(err)
	case err != nil:
		return nil, err
	}
	return res.Sent, nil
}

// URL links to a workflow in the Temporal UI.
func (c *Client) URL(workflowID, runID string) string {
	return operation.WorkflowURL(c.UIURL, c.Namespace, workflowID, runID)
}

// Package operations starts and inspects licensedesk's workflows from the
// outside (Slack commands, link pages, the account page) through the
// Temporal client.
package operations

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"licensedesk/bot"
	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/postgres"
	"licensedesk/workflows"
)

// Client implements bot.Operations.
type Client struct {
	Temporal  client.Client
	TaskQueue string
	Namespace string
	UIURL     string
	Timing    workflows.Timing // zero: the defaults (remind after 3 days, expire after 14)
	// Policy is the retry schedule of collections (zero: the default).
	Policy workflows.RetryPolicy
	// AlertChannel is where billing alerts go (SLACK_CHANNEL).
	AlertChannel string
	Invoices     interface {
		OpenInvoice(ctx context.Context, sen licensing.SEN) (postgres.Invoice, error)
	}
}

var _ bot.Operations = (*Client)(nil)

// Start starts the operation, or finds the same one already running: the
// workflow ID is built from the request, and starting a running ID is an
// error we turn into AlreadyRunning (ExecuteWorkflow would otherwise hand
// back the running one silently).
func (c *Client) Start(ctx context.Context, req bot.StartRequest) (bot.Started, error) {
	by := workflows.Requester{SlackUser: req.SlackUser, Email: req.ByEmail, Channel: req.Channel}
	var (
		id     string
		fn     any
		arg    any
		people []string
	)
	switch req.Operation {
	case "move":
		id, fn = operation.MoveID(req.Move.SEN, req.Move.NewEmail), workflows.Move
		arg = workflows.MoveInput{Request: req.Move, By: by, Timing: c.Timing}
		req.SEN = req.Move.SEN
		people = []string{string(req.Move.NewEmail)}
	case "verify":
		id, fn = operation.VerifyID(req.SEN, req.Email), workflows.Verify
		arg = workflows.VerifyInput{SEN: req.SEN, Requester: req.Email, By: by, Timing: c.Timing}
		people = []string{string(req.Email)}
	case "contact-add":
		id, fn = operation.ContactAddID(req.SEN, req.Role, req.Email), workflows.ContactAdd
		arg = workflows.ContactInput{SEN: req.SEN, Role: req.Role, Email: req.Email, By: by, Timing: c.Timing, OfferPrimary: req.OfferPrimary}
		people = []string{string(req.Email)}
	case "card":
		id, fn = operation.CardUpdateID(req.SEN), workflows.CardUpdate
		arg = workflows.CardUpdateInput{SEN: req.SEN, By: by}
	case "contact-remove":
		id, fn = operation.ContactRemoveID(req.SEN, req.Role, req.Email), workflows.ContactRemove
		arg = workflows.ContactInput{SEN: req.SEN, Role: req.Role, Email: req.Email, By: by, Timing: c.Timing}
		people = []string{string(req.Email)}
	default:
		return bot.Started{}, fmt.Errorf("operations: unknown operation %q", req.Operation)
	}
	opts := client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                c.TaskQueue,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowIDReusePolicy:                    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.LicenseSEN.ValueSet(string(req.SEN)),
			workflows.Operation.ValueSet(req.Operation),
			workflows.CustomerEmails.ValueSet(people),
			workflows.OperationStep.ValueSet("starting"),
		),
	}
	run, err := c.Temporal.ExecuteWorkflow(ctx, opts, fn, arg)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) && c.finishing(ctx, id, already.RunId) {
		// The last run has its outcome and is only sending its last
		// report: once it has closed, this request starts a new run.
		run, err = c.Temporal.ExecuteWorkflow(ctx, opts, fn, arg)
	}
	if errors.As(err, &already) {
		return bot.Started{WorkflowID: id, RunID: already.RunId, AlreadyRunning: true}, nil
	}
	if err != nil {
		return bot.Started{}, err
	}
	return bot.Started{WorkflowID: id, RunID: run.GetRunID()}, nil
}

// finishingWait bounds how long Start waits for a run that has ended its
// operation to close.
const finishingWait = 1500 * time.Millisecond

// finishing reports whether the running run of id has already ended its
// operation (its status is done) and then closed within finishingWait.
func (c *Client) finishing(ctx context.Context, id, runID string) bool {
	st, err := c.Status(ctx, id)
	if err != nil || !st.Done {
		return false
	}
	wctx, cancel := context.WithTimeout(ctx, finishingWait)
	defer cancel()
	err = c.Temporal.GetWorkflow(wctx, id, runID).Get(wctx, nil)
	return wctx.Err() == nil && (err == nil || !errors.Is(err, context.DeadlineExceeded))
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

// URL links to a workflow in the Temporal UI.
func (c *Client) URL(workflowID, runID string) string {
	return operation.WorkflowURL(c.UIURL, c.Namespace, workflowID, runID)
}

package temporalclient

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"licensedesk/operation"
	"licensedesk/workflows"
)

// peopleStarted are the kinds of operation a person starts (billing and
// collections run by themselves; password mails are not about a licence).
var peopleStarted = []operation.Kind{operation.KindMove, operation.KindVerify, operation.KindContactAdd,
	operation.KindContactRemove, operation.KindCard, operation.KindPromote, operation.KindPromoteSelf}

// InFlight lists running operations people started, newest first, through
// the Operation search attribute: one visibility call, a page of at most
// q.Limit, whatever the size of the book. Who started each comes from its
// memo.
func (c *Client) InFlight(ctx context.Context, q operation.InFlightQuery) ([]operation.Running, error) {
	kinds := make([]string, len(peopleStarted))
	for i, k := range peopleStarted {
		kinds[i] = fmt.Sprintf("%q", string(k))
	}
	query := fmt.Sprintf(`ExecutionStatus = "Running" AND %s IN (%s)`, workflows.AttrOperation.GetName(), strings.Join(kinds, ", "))
	if !q.StartedBefore.IsZero() {
		query += fmt.Sprintf(` AND StartTime < %q`, q.StartedBefore.UTC().Format(time.RFC3339))
	}
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	resp, err := c.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: c.Namespace, Query: query, PageSize: int32(limit),
	})
	if err != nil {
		return nil, err
	}
	dc := c.dataConverter()
	out := make([]operation.Running, 0, len(resp.Executions))
	for _, e := range resp.Executions {
		r := operation.Running{WorkflowID: e.Execution.WorkflowId, RunID: e.Execution.RunId, StartedAt: e.StartTime.AsTime()}
		if p := e.GetMemo().GetFields()["started_by"]; p != nil {
			_ = dc.FromPayload(p, &r.StartedBy)
		}
		if p := e.GetSearchAttributes().GetIndexedFields()[workflows.AttrLicenseSEN.GetName()]; p != nil {
			_ = dc.FromPayload(p, &r.SEN)
		}
		out = append(out, r)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

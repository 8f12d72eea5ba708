package operation

import "time"

// InFlightQuery asks for the running operations people started (not
// billing, nor the collection of an invoice), newest first.
type InFlightQuery struct {
	StartedBefore time.Time // zero: whenever they started
	Limit         int
}

// Running is one listed operation: enough to order and pick, before its
// status is asked for.
type Running struct {
	WorkflowID, RunID string
	SEN               string
	StartedBy         string // as Status.StartedBy: "<@U…>" or an email
	StartedAt         time.Time
}

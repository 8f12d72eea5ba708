// Package operation describes a running operation (a workflow) as plain
// data: what the `status` query returns, what Slack progress messages and
// /license status render. It has no dependencies, so workflows, activities
// and the bot can all share it.
package operation

import (
	"time"

	"licensedesk/licensing"
)

// StepState is where one step of an operation stands.
type StepState string

const (
	Pending StepState = "pending"
	Active  StepState = "active"
	Done    StepState = "done"
	Skipped StepState = "skipped"
	Failed  StepState = "failed"
)

// Step is one step of an operation, in order.
type Step struct {
	Key   string    `json:"key"`
	Title string    `json:"title"`
	State StepState `json:"state"`
}

// Outcome is how a finished operation ended.
type Outcome string

const (
	Completed Outcome = "completed"
	Declined  Outcome = "declined"
	Expired   Outcome = "expired"
	Cancelled Outcome = "cancelled"
	Failure   Outcome = "failed"
)

// Status is the answer to a workflow's `status` query.
type Status struct {
	WorkflowID string    `json:"workflow_id"`
	RunID      string    `json:"run_id,omitempty"`
	Operation  string    `json:"operation"`
	SEN        string    `json:"sen"`
	Summary    string    `json:"summary"`    // "Move SEN-1000001 to new@x.test"
	StartedBy  string    `json:"started_by"` // Slack user id, or an email
	Steps      []Step    `json:"steps"`
	Step       string    `json:"step"`              // key of the active step
	WaitingOn  []string  `json:"waiting_on"`        // emails of the people it waits for
	Deadline   time.Time `json:"deadline,omitzero"` // when the wait ends; zero when nothing is awaited
	Done       bool      `json:"done"`
	Outcome    Outcome   `json:"outcome,omitempty"`
	Message    string    `json:"message,omitempty"` // outcome in a sentence
	// CancelRequestedBy is who asked to cancel it ("<@U…>"), once someone
	// has, while it undoes what it did; a second press then says so.
	CancelRequestedBy string `json:"cancel_requested_by,omitempty"`
}

// Current returns the active step, or the zero Step.
func (s Status) Current() Step {
	for _, st := range s.Steps {
		if st.Key == s.Step {
			return st
		}
	}
	return Step{}
}

// StartRequest is an operation to start on someone's behalf.
type StartRequest struct {
	Kind      Kind // KindMove, KindVerify, KindContactAdd, KindContactRemove, KindCard
	Move      licensing.MoveRequest
	SEN       licensing.SEN
	Email     licensing.Email
	Role      licensing.Role
	SlackUser string
	// SlackUserName is the display name of SlackUser, when known: mails
	// name the salesperson who asked.
	SlackUserName string
	ByEmail       string // the signed-in customer, when it comes from the account page
	Channel       string // where its progress message goes
	// OfferPrimary (contact-add): also email the new contact an offer to
	// make themselves primary.
	OfferPrimary bool
	// Scope (verify): what the requester asked sales to do; empty: not said.
	Scope []licensing.RequestScope
}

// Started says which workflow runs the operation. AlreadyRunning means the
// same operation was already in flight and nothing new was started.
type Started struct {
	WorkflowID, RunID string
	AlreadyRunning    bool
}

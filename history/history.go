// Package history is a licence's history as plain data (SPEC §10): who did
// what, through what, and the one place it is put in words for people.
package history

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"licensedesk/licensing"
	"licensedesk/operation"
)

// Event is one recorded change to a licence.
type Event struct {
	ID         int64          `json:"-"`
	At         time.Time      `json:"at"`
	Actor      Actor          `json:"actor"`
	Action     string         `json:"action"` // "contact.add", "confirm_move.approve", "invoice.paid"...
	Details    map[string]any `json:"details"`
	WorkflowID string         `json:"workflow_id,omitempty"`
}

// Actor is who made the change and through what.
type Actor struct {
	Via   string `json:"via"`             // slack, link, account, api, system
	ID    string `json:"id"`              // a Slack user ID, an account's email, "api", "billing"
	Email string `json:"email,omitempty"` // when known
}

// Page is a page of events, newest first; NextCursor is "" on the last.
type Page struct {
	Events     []Event `json:"events"`
	NextCursor string  `json:"next_cursor"`
}

// Sentence says what happened in plain words:
//
//	12 Nov 14:02 — alice@acme.test approved moving SEN-1000001 to zed@newco.test (emailed link) · move/SEN-1000001/zed@newco.test
func Sentence(e Event) string {
	s := e.At.UTC().Format("2 Jan 15:04") + " — " + who(e.Actor) + " " + what(e)
	if how := via(e.Actor.Via); how != "" {
		s += " (" + how + ")"
	}
	if e.WorkflowID != "" {
		s += " · " + e.WorkflowID
	}
	return s
}

func who(a Actor) string {
	switch {
	case a.Via == "slack":
		return "<@" + a.ID + ">"
	case a.Via == "api":
		return "the provisioning API"
	case a.Via == "system":
		return "billing"
	case a.Email != "":
		return a.Email
	}
	return a.ID
}

func via(v string) string {
	switch v {
	case "slack":
		return "Slack"
	case "link":
		return "emailed link"
	case "account":
		return "account page"
	}
	return ""
}

// what is the action as a verb phrase. Unknown actions read as themselves.
func what(e Event) string {
	d := func(k string) string {
		if v, ok := e.Details[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	about := aboutOperation(e.WorkflowID)
	switch e.Action {
	case "contact.add":
		return "added " + d("email") + " as " + d("role") + " contact"
	case "contact.remove":
		return "removed " + d("email") + " as " + d("role") + " contact"
	case "contact.promote":
		s := "became the primary " + d("role") + " contact"
		if f := d("former"); f != "" {
			s += " (" + f + " is now secondary)"
		}
		return s
	case "confirm_move.approve", "confirm_request.approve":
		return "approved " + about
	case "confirm_move.decline", "confirm_request.decline":
		return "declined " + about
	case "link.resend":
		return "had a fresh link mailed to " + d("email")
	case "account.complete":
		return "set up their account"
	case "license.billing_address":
		return "changed the billing address"
	case "card.update":
		return "saved a new card (" + d("card") + ")"
	case "invoice.create":
		s := "invoiced " + d("number")
		if amount, ok := e.Details["amount"].(float64); ok {
			s += " (" + licensing.FormatMoney(int64(amount), d("currency")) + ")"
		}
		return s
	case "invoice.paid":
		return "was paid invoice " + d("number")
	case "charge.failed":
		return "could not charge invoice " + d("number") + ": " + d("reason")
	case "license.past_due":
		return "marked the licence past due"
	case "license.suspended":
		return "suspended the licence"
	case "license.reactivated":
		return "made the licence active again"
	case "license.create":
		return "created the licence"
	case "license.update":
		return "changed " + changes(e.Details)
	case "license.move":
		s := "moved the licence from " + d("from") + " to " + d("to")
		if kept, _ := e.Details["kept_old"].(bool); kept {
			s += " (" + d("from") + " stays as a secondary contact)"
		}
		return s
	case "site_admin.add":
		return "added " + d("email") + " as site admin"
	case "site_admin.remove":
		return "removed " + d("email") + " as site admin"
	}
	if strings.HasSuffix(e.Action, ".request") {
		return "asked for " + aboutOperation(e.WorkflowID)
	}
	return e.Action
}

// changes lists a license.update's fields ({"field": {"from": a, "to": b}})
// in name order: "billing_cycle from monthly to annual, price_minor from
// 1000 to 1200".
func changes(details map[string]any) string {
	fields := make([]string, 0, len(details))
	for f := range details {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		c, ok := details[f].(map[string]any)
		if !ok {
			parts = append(parts, f)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s from %v to %v", f, c["from"], c["to"]))
	}
	if len(parts) == 0 {
		return "the licence"
	}
	return strings.Join(parts, ", ")
}

// aboutOperation names an operation from its workflow ID:
// move/SEN-1000001/zed@newco.test is "moving SEN-1000001 to zed@newco.test".
func aboutOperation(workflowID string) string {
	kind, ok := operation.KindOf(workflowID)
	parts := strings.Split(workflowID, "/")
	if !ok {
		return "the request"
	}
	switch {
	case kind == operation.KindMove && len(parts) == 3:
		return "moving " + parts[1] + " to " + parts[2]
	case kind == operation.KindVerify && len(parts) == 3:
		return "verifying " + parts[2] + " for " + parts[1]
	case kind == operation.KindContactAdd && len(parts) == 4:
		return "adding " + parts[3] + " as " + parts[2] + " contact"
	case kind == operation.KindContactRemove && len(parts) == 4:
		return "removing " + parts[3] + " as " + parts[2] + " contact"
	case kind == operation.KindCard:
		return "a card update"
	}
	return string(kind)
}

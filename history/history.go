// Package history is a licence's history as plain data (SPEC §10): who did
// what, through what, and the one place it is put in words for people.
package history

import (
	"fmt"
	"maps"
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

// Entry is one line of a history as people read it: what one person did
// in one step, however many rows it wrote (a role each, say).
type Entry struct {
	At         time.Time
	Who        string // "<@U…>" for people in sales, an email, "the provisioning API", "billing"
	What       string // a verb phrase: "added zed@newco.test as billing and technical contact"
	How        string // "Slack", "emailed link", "account page", or "" (the API, billing)
	WorkflowID string
}

// Text is the entry as a plain sentence:
//
//	12 Nov 2026 14:02 UTC — alice@acme.test approved moving SEN-1000001 to zed@newco.test (emailed link) · move/SEN-1000001/zed@newco.test
func (e Entry) Text() string {
	s := e.At.UTC().Format("2 Jan 2006 15:04 MST") + " — " + e.Who + " " + e.What
	if e.How != "" {
		s += " (" + e.How + ")"
	}
	if e.WorkflowID != "" {
		s += " · " + e.WorkflowID
	}
	return s
}

// Sentence says what one event did in plain words (Entry.Text).
func Sentence(e Event) string { return entry(e).Text() }

// Entries puts a page of events (newest first) into lines: a request is
// folded into what the same person then did in the same operation ("asked
// to add nina" and "added nina" read as one line), and the rows one step
// wrote for each role are one line ("removed alice as billing and
// technical contact").
func Entries(events []Event) []Entry {
	var out []Entry
	for i := 0; i < len(events); i++ {
		e := events[i]
		if isRequest(e) && doneBySameActor(events, e) {
			continue
		}
		roles := []string{role(e)}
		for i+1 < len(events) && sameStep(e, events[i+1]) {
			i++
			roles = append(roles, role(events[i]))
		}
		if len(roles) > 1 {
			e = withRole(e, joinRoles(roles))
		}
		out = append(out, entry(e))
	}
	return out
}

func isRequest(e Event) bool { return strings.HasSuffix(e.Action, ".request") }

// doneBy names, for a request, the actions that are what was asked for:
// once the same person's row of one of them is on the page, "asked to add
// nina" says nothing "added nina" does not. A move's request stays: what
// follows it (a resend, a contact added) is only part of it.
var doneBy = map[string][]string{
	"contact-add.request":    {"contact.add"},
	"contact-remove.request": {"contact.remove"},
	"promote-self.request":   {"contact.promote"},
}

// doneBySameActor reports whether the person who asked for req's operation
// also did what was asked, in it, on this page.
func doneBySameActor(events []Event, req Event) bool {
	if req.WorkflowID == "" {
		return false
	}
	for _, e := range events {
		if slices.Contains(doneBy[req.Action], e.Action) && e.WorkflowID == req.WorkflowID && e.Actor.Via == req.Actor.Via && e.Actor.ID == req.Actor.ID {
			return true
		}
	}
	return false
}

// sameStep reports whether b is a's row for another role: the same
// person, operation and action, saying the same but for the role.
func sameStep(a, b Event) bool {
	if a.Action != b.Action || a.Actor != b.Actor || a.WorkflowID != b.WorkflowID || role(a) == "" || role(b) == "" || role(a) == role(b) {
		return false
	}
	return what(withRole(a, "")) == what(withRole(b, ""))
}

func withRole(e Event, r string) Event {
	e.Details = maps.Clone(e.Details)
	e.Details["role"] = r
	return e
}

func role(e Event) string {
	if r, ok := e.Details["role"].(string); ok {
		return r
	}
	return ""
}

// joinRoles lists roles in the order of licensing.Roles.
func joinRoles(roles []string) string {
	var out []string
	for _, r := range licensing.Roles {
		if slices.Contains(roles, string(r)) {
			out = append(out, string(r))
		}
	}
	return strings.Join(out, " and ")
}

func entry(e Event) Entry {
	return Entry{At: e.At, Who: who(e.Actor), What: what(e), How: via(e.Actor.Via), WorkflowID: e.WorkflowID}
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
	case "confirm_move.approve":
		return "approved " + gerund(e.WorkflowID)
	case "confirm_move.decline":
		return "declined " + gerund(e.WorkflowID)
	case "confirm_request.approve":
		return "confirmed that " + verifySubject(e.WorkflowID)
	case "confirm_request.decline":
		return "refused to confirm that " + verifySubject(e.WorkflowID)
	case "promote.decline":
		return "declined to become a primary contact"
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
		return "recorded the payment of invoice " + d("number")
	case "charge.failed":
		return "could not charge invoice " + d("number") + ": " + d("reason")
	case "invoice.payment_action_required":
		return "asked the cardholder to confirm the payment of invoice " + d("number") + " with their bank"
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
	if isRequest(e) {
		return "asked to " + infinitive(strings.TrimSuffix(e.Action, ".request"), e.WorkflowID)
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

// gerund names an operation from its workflow ID as what was approved:
// move/SEN-1000001/zed@newco.test is "moving SEN-1000001 to zed@newco.test".
func gerund(workflowID string) string {
	kind, parts := idParts(workflowID)
	if kind == operation.KindMove && len(parts) == 3 {
		return "moving " + parts[1] + " to " + parts[2]
	}
	return "the request"
}

// verifySubject is what a verification confirms: "someone@else.test may
// act on SEN-1000001".
func verifySubject(workflowID string) string {
	kind, parts := idParts(workflowID)
	if kind == operation.KindVerify && len(parts) == 3 {
		return parts[2] + " may act on " + parts[1]
	}
	return "the request may go ahead"
}

// infinitive is what someone asked for, after "asked to".
func infinitive(kind, workflowID string) string {
	k, parts := idParts(workflowID)
	if k == "" {
		k = operation.Kind(kind)
	}
	switch {
	case k == operation.KindMove && len(parts) == 3:
		return "move " + parts[1] + " to " + parts[2]
	case k == operation.KindVerify && len(parts) == 3:
		return "verify that " + parts[2] + " may act on " + parts[1]
	case k == operation.KindContactAdd && len(parts) == 4:
		return "add " + parts[3] + " as " + parts[2] + " contact"
	case k == operation.KindContactRemove && len(parts) == 4:
		return "remove " + parts[3] + " as " + parts[2] + " contact"
	case k == operation.KindPromoteSelf && len(parts) == 4:
		return "become the primary " + parts[2] + " contact"
	case k == operation.KindPromote && len(parts) == 3:
		return "offer " + parts[2] + " a primary role"
	case k == operation.KindCard:
		return "have update-card links mailed"
	}
	return "start a " + strings.ReplaceAll(string(k), "-", " ")
}

func idParts(workflowID string) (operation.Kind, []string) {
	kind, ok := operation.KindOf(workflowID)
	if !ok {
		return "", nil
	}
	return kind, strings.Split(workflowID, "/")
}

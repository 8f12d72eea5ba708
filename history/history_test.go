package history

import (
	"strings"
	"testing"
	"time"
)

func TestSentence_SaysWhoDidWhatThroughWhat(t *testing.T) {
	at := time.Date(2026, 11, 12, 14, 2, 0, 0, time.UTC)
	for _, tc := range []struct {
		e    Event
		want string
	}{
		{Event{At: at, Actor: Actor{Via: "link", ID: "alice@acme.test", Email: "alice@acme.test"}, Action: "confirm_move.approve",
			WorkflowID: "move/SEN-1000001/zed@newco.test"},
			"12 Nov 2026 14:02 UTC — alice@acme.test approved moving SEN-1000001 to zed@newco.test (emailed link) · move/SEN-1000001/zed@newco.test"},
		{Event{At: at, Actor: Actor{Via: "slack", ID: "U0TEST"}, Action: "move.request", WorkflowID: "move/SEN-1000001/zed@newco.test"},
			"12 Nov 2026 14:02 UTC — <@U0TEST> asked to move SEN-1000001 to zed@newco.test (Slack) · move/SEN-1000001/zed@newco.test"},
		{Event{At: at, Actor: Actor{Via: "slack", ID: "U0TEST"}, Action: "contact.add", Details: map[string]any{"email": "zed@newco.test", "role": "billing"},
			WorkflowID: "move/SEN-1000001/zed@newco.test"},
			"12 Nov 2026 14:02 UTC — <@U0TEST> added zed@newco.test as billing contact (Slack) · move/SEN-1000001/zed@newco.test"},
		{Event{At: at, Actor: Actor{Via: "link", ID: "zed@newco.test", Email: "zed@newco.test"}, Action: "contact.promote",
			Details: map[string]any{"role": "technical", "former": "alice@acme.test"}},
			"12 Nov 2026 14:02 UTC — zed@newco.test became the primary technical contact (alice@acme.test is now secondary) (emailed link)"},
		{Event{At: at, Actor: Actor{Via: "system", ID: "billing"}, Action: "invoice.create",
			Details: map[string]any{"number": "SEN-1000001-2026-12-01", "amount": 1000.0, "currency": "USD"}, WorkflowID: "invoice/SEN-1000001-2026-12-01"},
			"12 Nov 2026 14:02 UTC — billing invoiced SEN-1000001-2026-12-01 (USD 10.00) · invoice/SEN-1000001-2026-12-01"},
		{Event{At: at, Actor: Actor{Via: "api", ID: "api"}, Action: "license.create"},
			"12 Nov 2026 14:02 UTC — the provisioning API created the licence"},
		{Event{At: at, Actor: Actor{Via: "api", ID: "api"}, Action: "license.update", Details: map[string]any{
			"price_minor": map[string]any{"from": 1000.0, "to": 1200.0}, "billing_cycle": map[string]any{"from": "monthly", "to": "annual"}}},
			"12 Nov 2026 14:02 UTC — the provisioning API changed billing_cycle from monthly to annual, price_minor from 1000 to 1200"},
		{Event{At: at, Actor: Actor{Via: "api", ID: "api"}, Action: "site_admin.add", Details: map[string]any{"email": "ann@acme.test", "account_created": true}},
			"12 Nov 2026 14:02 UTC — the provisioning API added ann@acme.test as site admin"},
		{Event{At: at, Actor: Actor{Via: "api", ID: "api"}, Action: "site_admin.remove", Details: map[string]any{"email": "ann@acme.test"}},
			"12 Nov 2026 14:02 UTC — the provisioning API removed ann@acme.test as site admin"},
		{Event{At: at, Actor: Actor{Via: "system", ID: "billing"}, Action: "some.new_action"},
			"12 Nov 2026 14:02 UTC — billing some.new_action"},
	} {
		if got := Sentence(tc.e); got != tc.want {
			t.Errorf("Sentence = %q\n        want %q", got, tc.want)
		}
	}
}

// TestEntries_OneLinePerStep (review #6): a request is folded into what the
// same person then did in the same operation, and the rows one step wrote
// for each role read as one line; other people's steps stay apart.
func TestEntries_OneLinePerStep(t *testing.T) {
	at := time.Date(2026, 12, 7, 19, 22, 0, 0, time.UTC)
	bob := Actor{Via: "account", ID: "bob@acme.test", Email: "bob@acme.test"}
	sales := Actor{Via: "slack", ID: "U0SALES"}
	add := "contact-add/SEN-1000001/billing/nina@acme.test"
	remove := "contact-remove/SEN-1000001/billing/alice@acme.test"
	events := []Event{ // newest first
		{At: at, Actor: sales, Action: "contact.remove", Details: map[string]any{"email": "alice@acme.test", "role": "technical"}, WorkflowID: remove},
		{At: at, Actor: sales, Action: "contact.remove", Details: map[string]any{"email": "alice@acme.test", "role": "billing"}, WorkflowID: remove},
		{At: at, Actor: sales, Action: "contact-remove.request", WorkflowID: remove},
		{At: at, Actor: bob, Action: "contact.add", Details: map[string]any{"email": "nina@acme.test", "role": "billing"}, WorkflowID: add},
		{At: at, Actor: bob, Action: "contact-add.request", WorkflowID: add},
		{At: at, Actor: sales, Action: "move.request", WorkflowID: "move/SEN-1000001/zed@newco.test"},
		{At: at, Actor: Actor{Via: "link", ID: "zed@newco.test", Email: "zed@newco.test"}, Action: "contact.promote",
			Details: map[string]any{"role": "billing", "former": "alice@acme.test"}, WorkflowID: "move/SEN-1000001/zed@newco.test"},
		{At: at, Actor: Actor{Via: "link", ID: "zed@newco.test", Email: "zed@newco.test"}, Action: "contact.promote",
			Details: map[string]any{"role": "technical", "former": "bob@acme.test"}, WorkflowID: "move/SEN-1000001/zed@newco.test"},
	}
	var got []string
	for _, e := range Entries(events) {
		got = append(got, e.Who+" "+e.What)
	}
	want := []string{
		"<@U0SALES> removed alice@acme.test as billing and technical contact",
		"bob@acme.test added nina@acme.test as billing contact",
		"<@U0SALES> asked to move SEN-1000001 to zed@newco.test",
		"zed@newco.test became the primary billing contact (alice@acme.test is now secondary)",
		"zed@newco.test became the primary technical contact (bob@acme.test is now secondary)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if events[0].Details["role"] != "technical" {
		t.Error("Entries changed the events it read")
	}
}

// Details the sentence does not show (whether an account was created) do
// not keep a step's roles apart.
func TestEntries_RolesOfOneStepMergeWhateverTheirOtherDetails(t *testing.T) {
	a := Actor{Via: "slack", ID: "U0SALES"}
	got := Entries([]Event{
		{Actor: a, Action: "contact.add", Details: map[string]any{"email": "zed@newco.test", "role": "technical", "account_created": false}, WorkflowID: "move/SEN-1/zed@newco.test"},
		{Actor: a, Action: "contact.add", Details: map[string]any{"email": "zed@newco.test", "role": "billing", "account_created": true}, WorkflowID: "move/SEN-1/zed@newco.test"},
	})
	if len(got) != 1 || got[0].What != "added zed@newco.test as billing and technical contact" {
		t.Errorf("entries: %+v", got)
	}
}

package history

import (
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
			"12 Nov 14:02 — alice@acme.test approved moving SEN-1000001 to zed@newco.test (emailed link) · move/SEN-1000001/zed@newco.test"},
		{Event{At: at, Actor: Actor{Via: "slack", ID: "U0TEST"}, Action: "move.request", WorkflowID: "move/SEN-1000001/zed@newco.test"},
			"12 Nov 14:02 — <@U0TEST> asked for moving SEN-1000001 to zed@newco.test (Slack) · move/SEN-1000001/zed@newco.test"},
		{Event{At: at, Actor: Actor{Via: "slack", ID: "U0TEST"}, Action: "contact.add", Details: map[string]any{"email": "zed@newco.test", "role": "billing"},
			WorkflowID: "move/SEN-1000001/zed@newco.test"},
			"12 Nov 14:02 — <@U0TEST> added zed@newco.test as billing contact (Slack) · move/SEN-1000001/zed@newco.test"},
		{Event{At: at, Actor: Actor{Via: "link", ID: "zed@newco.test", Email: "zed@newco.test"}, Action: "contact.promote",
			Details: map[string]any{"role": "technical", "former": "alice@acme.test"}},
			"12 Nov 14:02 — zed@newco.test became the primary technical contact (alice@acme.test is now secondary) (emailed link)"},
		{Event{At: at, Actor: Actor{Via: "system", ID: "billing"}, Action: "invoice.create",
			Details: map[string]any{"number": "SEN-1000001-2026-12-01", "amount": 1000.0, "currency": "USD"}, WorkflowID: "invoice/SEN-1000001-2026-12-01"},
			"12 Nov 14:02 — billing invoiced SEN-1000001-2026-12-01 (USD 10.00) · invoice/SEN-1000001-2026-12-01"},
		{Event{At: at, Actor: Actor{Via: "api", ID: "api"}, Action: "license.create"},
			"12 Nov 14:02 — the provisioning API created the licence"},
		{Event{At: at, Actor: Actor{Via: "api", ID: "api"}, Action: "license.update", Details: map[string]any{
			"price_minor": map[string]any{"from": 1000.0, "to": 1200.0}, "billing_cycle": map[string]any{"from": "monthly", "to": "annual"}}},
			"12 Nov 14:02 — the provisioning API changed billing_cycle from monthly to annual, price_minor from 1000 to 1200"},
		{Event{At: at, Actor: Actor{Via: "api", ID: "api"}, Action: "site_admin.add", Details: map[string]any{"email": "ann@acme.test", "account_created": true}},
			"12 Nov 14:02 — the provisioning API added ann@acme.test as site admin"},
		{Event{At: at, Actor: Actor{Via: "api", ID: "api"}, Action: "site_admin.remove", Details: map[string]any{"email": "ann@acme.test"}},
			"12 Nov 14:02 — the provisioning API removed ann@acme.test as site admin"},
		{Event{At: at, Actor: Actor{Via: "system", ID: "billing"}, Action: "some.new_action"},
			"12 Nov 14:02 — billing some.new_action"},
	} {
		if got := Sentence(tc.e); got != tc.want {
			t.Errorf("Sentence = %q\n        want %q", got, tc.want)
		}
	}
}

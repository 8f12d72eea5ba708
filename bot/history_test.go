package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"licensedesk/history"
	"licensedesk/licensing"
	"licensedesk/slackout"
)

func historyURL(id string) string { return "http://temporal.test/namespaces/default/workflows/" + id }

func TestHistoryReply_Golden(t *testing.T) {
	at := time.Date(2026, 11, 12, 14, 2, 0, 0, time.UTC)
	page := history.Page{NextCursor: "41", Events: []history.Event{
		{At: at.Add(3 * time.Minute), Actor: history.Actor{Via: "link", ID: "zed@newco.test", Email: "zed@newco.test"}, Action: "contact.promote",
			Details: map[string]any{"role": "billing", "former": "alice@acme.test"}, WorkflowID: "move/SEN-1000001/zed@newco.test"},
		{At: at.Add(time.Minute), Actor: history.Actor{Via: "link", ID: "alice@acme.test", Email: "alice@acme.test"}, Action: "confirm_move.approve",
			WorkflowID: "move/SEN-1000001/zed@newco.test"},
		{At: at, Actor: history.Actor{Via: "slack", ID: "U0TEST"}, Action: "move.request", WorkflowID: "move/SEN-1000001/zed@newco.test"},
		{At: at, Actor: history.Actor{Via: "link", ID: "mallory@x.test", Email: "mallory@x.test"}, Action: "charge.failed",
			Details: map[string]any{"number": "INV-1", "reason": "<!channel> <https://evil.test|click>"}},
	}}
	r := historyReply("SEN-1000001", page, "", historyURL)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r.Blocks); err != nil {
		t.Fatal(err)
	}
	golden(t, "history.golden.json", buf.Bytes())
	golden(t, "history.golden.txt", []byte(PlainText(r)))
	if empty := historyReply("SEN-1000002", history.Page{}, "", nil); empty.Text != "History of SEN-1000002: nothing recorded yet." {
		t.Errorf("empty history: %q", empty.Text)
	}
	if end := historyReply("SEN-1000002", history.Page{}, "7", nil); end.Text != "History of SEN-1000002, earlier: nothing before that." {
		t.Errorf("past the oldest: %q", end.Text)
	}
	more := Buttons(r)
	if len(more) != 1 || more[0].Text.Text != "Show 10 more" || more[0].ActionID != "run:history" ||
		more[0].Value != (slackout.Invocation{Cmd: "history", Args: []string{"SEN-1000001", "--before", "41"}}).Value() {
		t.Errorf("Show more: %+v", more)
	}
}

// Every kind of event reads as a sentence in Slack: one golden line each,
// with its date in the reader's zone and its operation linked.
func TestHistoryReply_EveryEventKindGolden(t *testing.T) {
	at := time.Date(2026, 12, 7, 19, 22, 0, 0, time.UTC)
	slackU := history.Actor{Via: "slack", ID: "U0SALES"}
	link := func(e string) history.Actor { return history.Actor{Via: "link", ID: e, Email: e} }
	account := func(e string) history.Actor { return history.Actor{Via: "account", ID: e, Email: e} }
	api, billing := history.Actor{Via: "api", ID: "api"}, history.Actor{Via: "system", ID: "billing"}
	move, verify := "move/SEN-1000001/zed@newco.test", "verify/SEN-1000001/someone@else.test"
	events := []history.Event{
		{Actor: slackU, Action: "move.request", WorkflowID: move},
		{Actor: slackU, Action: "verify.request", WorkflowID: verify},
		{Actor: slackU, Action: "contact-add.request", WorkflowID: "contact-add/SEN-1000001/billing/nina@acme.test"},
		{Actor: slackU, Action: "contact-remove.request", WorkflowID: "contact-remove/SEN-1000001/technical/bob@acme.test"},
		{Actor: slackU, Action: "card.request", WorkflowID: "card/SEN-1000001"},
		{Actor: account("bob@acme.test"), Action: "promote-self.request", WorkflowID: "promote-self/SEN-1000001/technical/bob@acme.test"},
		{Actor: link("alice@acme.test"), Action: "confirm_move.approve", WorkflowID: move},
		{Actor: link("alice@acme.test"), Action: "confirm_move.decline", WorkflowID: move},
		{Actor: link("alice@acme.test"), Action: "confirm_request.approve", WorkflowID: verify},
		{Actor: link("alice@acme.test"), Action: "confirm_request.decline", WorkflowID: verify},
		{Actor: link("zed@newco.test"), Action: "promote.decline", WorkflowID: move},
		{Actor: slackU, Action: "contact.add", Details: map[string]any{"email": "zed@newco.test", "role": "billing"}, WorkflowID: move},
		{Actor: account("bob@acme.test"), Action: "contact.remove", Details: map[string]any{"email": "nina@acme.test", "role": "billing"}},
		{Actor: link("zed@newco.test"), Action: "contact.promote", Details: map[string]any{"role": "technical", "former": "alice@acme.test"}, WorkflowID: move},
		{Actor: slackU, Action: "link.resend", Details: map[string]any{"email": "alice@acme.test"}, WorkflowID: move},
		{Actor: link("zed@newco.test"), Action: "account.complete", WorkflowID: move},
		{Actor: account("carol@acme.test"), Action: "license.billing_address"},
		{Actor: account("gina@initech.test"), Action: "card.update", Details: map[string]any{"card": "visa •••• 0002"}},
		{Actor: billing, Action: "invoice.create", Details: map[string]any{"number": "SEN-1000003-2026-12-04", "amount": 1000.0, "currency": "USD"}, WorkflowID: "invoice/SEN-1000003-2026-12-04"},
		{Actor: billing, Action: "invoice.paid", Details: map[string]any{"number": "SEN-1000003-2026-12-04"}, WorkflowID: "invoice/SEN-1000003-2026-12-04"},
		{Actor: billing, Action: "charge.failed", Details: map[string]any{"number": "SEN-1000003-2026-12-04", "reason": "card declined"}},
		{Actor: billing, Action: "license.past_due"},
		{Actor: billing, Action: "license.suspended"},
		{Actor: billing, Action: "license.reactivated"},
		{Actor: api, Action: "license.create"},
		{Actor: api, Action: "license.update", Details: map[string]any{"price_minor": map[string]any{"from": 1000.0, "to": 1200.0}}},
		{Actor: api, Action: "site_admin.add", Details: map[string]any{"email": "ann@acme.test"}},
		{Actor: api, Action: "site_admin.remove", Details: map[string]any{"email": "ann@acme.test"}},
	}
	var out strings.Builder
	for _, e := range events {
		e.At = at
		entries := history.Entries([]history.Event{e})
		if len(entries) != 1 {
			t.Fatalf("%s: %d entries", e.Action, len(entries))
		}
		fmt.Fprintf(&out, "%-24s %s\n", e.Action, historyLine(entries[0], historyURL))
	}
	golden(t, "history_kinds.golden.txt", []byte(out.String()))
	for _, bad := range []string{"asked for", "was paid invoice", "verifying", "&lt;@"} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("a sentence still says %q", bad)
		}
	}
}

// The typed form of Show more: --before takes a cursor and nothing else.
func TestHistory_BeforeTakesACursor(t *testing.T) {
	h := pageHistory{}
	cmd := HistoryCommand(memLicenses{"SEN-1000001": cloudMonthly()}, &h, nil)
	for _, args := range [][]string{{"SEN-1000001", "--before"}, {"SEN-1000001", "--before", "x"}, {"SEN-1000001", "--after", "3"}, {"SEN-1000001", "--before", "-4"}} {
		if _, err := cmd.Run(context.Background(), Request{Args: args}); licensing.ErrorCode(err) != licensing.Invalid {
			t.Errorf("%v: %v; want invalid input", args, err)
		}
	}
	if _, err := cmd.Run(context.Background(), Request{Args: []string{"SEN-1000001", "--before", "41"}}); err != nil || h.cursor != "41" {
		t.Errorf("--before 41: %v, read from %q", err, h.cursor)
	}
}

type pageHistory struct{ cursor string }

func (p *pageHistory) History(_ context.Context, _ licensing.SEN, cursor string, _ int) (history.Page, error) {
	p.cursor = cursor
	return history.Page{}, nil
}

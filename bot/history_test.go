package bot

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"licensedesk/history"
)

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
	r := historyReply("SEN-1000001", page)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r.Blocks); err != nil {
		t.Fatal(err)
	}
	golden(t, "history.golden.json", buf.Bytes())
	golden(t, "history.golden.txt", []byte(PlainText(r)))
	if empty := historyReply("SEN-1000002", history.Page{}); empty.Text != "History of SEN-1000002: nothing recorded yet." {
		t.Errorf("empty history: %q", empty.Text)
	}
}

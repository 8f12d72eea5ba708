package web_test

import (
	"net/http"
	"testing"
	"time"

	"licensedesk/internal/clock/clocktest"
)

// TestInvoicesAPI_TheFactsOfEachInvoice: GET /api/v1/licenses/{sen}/invoices
// (bearer) lists a licence's invoices newest first, 50 a page, each with
// what the customer's invoice page says; a bad SEN is 400, an unknown one
// 404, no token 401, a forged cursor 400, a server licence an empty list.
func TestInvoicesAPI_TheFactsOfEachInvoice(t *testing.T) {
	s := newAPI(t)
	status, body := s.call("GET", "/api/v1/licenses/SEN-1000003/invoices", "")
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, body)
	}
	list, _ := body["invoices"].([]any)
	if len(list) != 3 || body["next_cursor"] != nil {
		t.Fatalf("%d invoices, next %v", len(list), body["next_cursor"])
	}
	open, paid := list[0].(map[string]any), list[1].(map[string]any)
	// The demo's open invoice fell due three days before the test's day,
	// and the one before it was paid a month earlier.
	now := clocktest.Now(t)
	due := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -3)
	for k, want := range map[string]any{"number": "SEN-1000003-" + due.Format(time.DateOnly), "status": "past_due", "amount_minor": 1000.0, "currency": "USD",
		"period_start": due.Format(time.DateOnly), "period_end": due.AddDate(0, 1, -1).Format(time.DateOnly), "failed_charges": 1.0, "paid_at": nil, "card": nil} {
		if open[k] != want {
			t.Errorf("open invoice %s = %v; want %v", k, open[k], want)
		}
	}
	for k, want := range map[string]any{"status": "paid", "card": "Visa ending 4242", "provider_ref": "pi_demo_SEN1000003" + due.AddDate(0, -1, 0).Format("20060102"), "subtotal_minor": 1000.0} {
		if paid[k] != want {
			t.Errorf("paid invoice %s = %v; want %v", k, paid[k], want)
		}
	}
	if taxes, _ := paid["taxes"].([]any); len(taxes) != 1 || taxes[0].(map[string]any)["amount_minor"] != 0.0 {
		t.Errorf("taxes %v; want one zero line", paid["taxes"])
	}
	if bt, _ := open["bill_to"].(map[string]any); bt == nil || len(bt["lines"].([]any)) != 3 {
		t.Errorf("bill_to %v", open["bill_to"])
	}
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/api/v1/licenses/SEN-12/invoices", 400},
		{"/api/v1/licenses/SEN-9999999/invoices", 404},
		{"/api/v1/licenses/SEN-1000003/invoices?cursor=%3Cforged%3E", 400},
	} {
		if got, b := s.call("GET", tc.path, ""); got != tc.status || b["error"] == "" {
			t.Errorf("%s: %d %v; want %d with an error", tc.path, got, b, tc.status)
		}
	}
	if got, _ := s.callWith("", "GET", "/api/v1/licenses/SEN-1000003/invoices", nil); got != http.StatusUnauthorized {
		t.Errorf("no token: %d", got)
	}
	if _, b := s.call("GET", "/api/v1/licenses/SEN-2000001/invoices", ""); len(b["invoices"].([]any)) != 0 {
		t.Errorf("a server licence: %v", b)
	}
}

package web_test

import (
	"net/http"
	"testing"
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
	for k, want := range map[string]any{"number": "SEN-1000003-2026-11-20", "status": "past_due", "amount_minor": 1000.0, "currency": "USD",
		"period_start": "2026-11-20", "period_end": "2026-12-19", "failed_charges": 1.0, "paid_at": nil, "card": nil} {
		if open[k] != want {
			t.Errorf("open invoice %s = %v; want %v", k, open[k], want)
		}
	}
	for k, want := range map[string]any{"status": "paid", "card": "Visa ending 4242", "provider_ref": "pi_demo_SEN100000320261020", "subtotal_minor": 1000.0} {
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

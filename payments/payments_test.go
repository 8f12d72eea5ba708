package payments

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestIsHardDecline_ExactlySpecList(t *testing.T) {
	// SPEC §2, word for word.
	spec := []string{"incorrect_number", "lost_card", "pickup_card", "stolen_card",
		"revocation_of_authorization", "revocation_of_all_authorizations",
		"authentication_required", "transaction_not_allowed"}
	if got := HardDeclineCodes(); !slices.Equal(got, spec) {
		t.Fatalf("HardDeclineCodes() = %v\nwant %v", got, spec)
	}
	for _, code := range spec {
		if !IsHardDecline(code) {
			t.Errorf("IsHardDecline(%q) = false", code)
		}
	}
	if len(hardDeclines) != len(spec) {
		t.Errorf("the lookup table has %d codes, the list %d", len(hardDeclines), len(spec))
	}
	for _, code := range []string{"", "generic_decline", "insufficient_funds", "expired_card",
		"card_declined", "do_not_honor", "processing_error", "STOLEN_CARD", "stolen_card "} {
		if IsHardDecline(code) {
			t.Errorf("IsHardDecline(%q) = true; want soft", code)
		}
	}
	// The returned list is a copy.
	HardDeclineCodes()[0] = "changed"
	if HardDeclineCodes()[0] != "incorrect_number" {
		t.Fatal("HardDeclineCodes shares its backing array")
	}
}

func TestErrors_Classification(t *testing.T) {
	down := &ProviderDownError{Op: "charge", StatusCode: 503, Err: errors.New("boom")}
	tests := []struct {
		name                  string
		err                   error
		retryable, newCard    bool
		needsAction, isDecl   bool
		wantHard, wantMessage bool
	}{
		{name: "soft decline", err: NewDecline("insufficient_funds", "Your card has insufficient funds.", "pi_1"), isDecl: true, wantMessage: true},
		{name: "hard decline", err: NewDecline("stolen_card", "Your card was declined.", "pi_1"), newCard: true, isDecl: true, wantHard: true, wantMessage: true},
		{name: "authentication required is a hard decline and needs action", err: NewDecline("authentication_required", "", ""), newCard: true, needsAction: true, isDecl: true, wantHard: true},
		{name: "needs action", err: ErrNeedsAction, newCard: true, needsAction: true},
		{name: "wrapped needs action", err: fmt.Errorf("charge SEN-1/1: %w", ErrNeedsAction), newCard: true, needsAction: true},
		{name: "provider down", err: down, retryable: true},
		{name: "wrapped provider down", err: fmt.Errorf("activity: %w", down), retryable: true},
		{name: "ordinary", err: errors.New("No such customer")},
		{name: "processing", err: ErrProcessing},
		{name: "nil", err: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Retryable(tt.err); got != tt.retryable {
				t.Errorf("Retryable = %v", got)
			}
			if got := NeedsNewCard(tt.err); got != tt.newCard {
				t.Errorf("NeedsNewCard = %v", got)
			}
			if got := errors.Is(tt.err, ErrNeedsAction); got != tt.needsAction {
				t.Errorf("errors.Is(ErrNeedsAction) = %v", got)
			}
			var d *DeclineError
			if got := errors.As(tt.err, &d); got != tt.isDecl {
				t.Fatalf("errors.As(*DeclineError) = %v", got)
			}
			if d != nil && d.Hard != tt.wantHard {
				t.Errorf("Hard = %v", d.Hard)
			}
			if d != nil && tt.wantMessage && d.Error() == "" {
				t.Error("empty message")
			}
		})
	}
	if msg := NewDecline("stolen_card", "Your card was declined.", "").Error(); msg != "card declined (stolen_card, hard): Your card was declined." {
		t.Errorf("message %q", msg)
	}
	if !errors.Is(down, down.Err) {
		t.Error("ProviderDownError does not unwrap")
	}
}

func TestChargeInput_Validate(t *testing.T) {
	ok := ChargeInput{CustomerID: "cus_1", PaymentMethodID: "pm_1", AmountCents: 1000, Currency: "USD", IdempotencyKey: "SEN-1000001-2026-12/1"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*ChargeInput){
		"no key":        func(c *ChargeInput) { c.IdempotencyKey = "" },
		"no customer":   func(c *ChargeInput) { c.CustomerID = "" },
		"no method":     func(c *ChargeInput) { c.PaymentMethodID = "" },
		"zero amount":   func(c *ChargeInput) { c.AmountCents = 0 },
		"negative":      func(c *ChargeInput) { c.AmountCents = -5 },
		"bad currency":  func(c *ChargeInput) { c.Currency = "US" },
		"no currency":   func(c *ChargeInput) { c.Currency = "" },
		"digit in code": func(c *ChargeInput) { c.Currency = "US1" },
	} {
		in := ok
		mut(&in)
		if err := in.Validate(); err == nil || Retryable(err) {
			t.Errorf("%s: Validate = %v; want an ordinary error", name, err)
		}
	}
}

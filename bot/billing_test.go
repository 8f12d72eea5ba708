package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"licensedesk/licensing"
)

type memBilling struct {
	addr     licensing.BillingAddress
	invoices []licensing.Invoice
	more     bool
}

func (m memBilling) BillingAddress(context.Context, licensing.SEN) (licensing.BillingAddress, error) {
	return m.addr, nil
}

func (m memBilling) LicenseInvoices(_ context.Context, _ licensing.SEN, _ string, limit int) (licensing.InvoicePage, error) {
	p := licensing.InvoicePage{Invoices: m.invoices}
	if len(p.Invoices) > limit {
		p.Invoices = p.Invoices[:limit]
	}
	if m.more {
		p.NextCursor = "x"
	}
	return p, nil
}

func demoBilling() memBilling {
	paid := func(start time.Time) licensing.Invoice {
		return licensing.Invoice{Number: "SEN-1000001-" + start.Format("2006-01-02"), SEN: "SEN-1000001", Product: "Jira Software", Cycle: licensing.Monthly,
			PeriodStart: start, PeriodEnd: start.AddDate(0, 1, 0), DueDate: start, AmountCents: 1200, Currency: "USD",
			Tax: licensing.TaxLine{Name: "VAT", RateBP: 2000, AmountCents: 200}, Stored: "paid",
			Receipt: &licensing.Receipt{PaidAt: start.Add(9 * time.Hour), Card: "Visa ending 4242", ProviderRef: "pi_1"}}
	}
	open := paid(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	open.Number, open.Stored, open.Receipt, open.Failed = "SEN-1000001-2026-11-01", "open", nil, 1
	return memBilling{
		addr: licensing.BillingAddress{Name: "Acme Ltd", Lines: []string{"1 Rocket Road"}, City: "London", Postcode: "EC1A 1AA", Country: "GB", TaxID: "GB123456789"},
		invoices: []licensing.Invoice{open, paid(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)), paid(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)),
			paid(time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC))},
		more: true,
	}
}

// TestShow_SaysWhatALicencePays (issue 20): /license show gives sales the
// facts the customer's account page shows: the next bill with its tax,
// who is billed with their VAT number, who added the card, and the newest
// invoices with their status; the golden file is the whole reply.
func TestShow_SaysWhatALicencePays(t *testing.T) {
	l := cloudMonthly()
	l.Currency = "USD"
	l.PaymentMethod.AddedBy = "alice@acme.test"
	taxes, _ := licensing.ParseTaxRules("GB:VAT:20")
	cmd := ShowCommand(memLicenses{"SEN-1000001": l}, nil, 15*24*time.Hour, WithBilling(demoBilling(), taxes))
	reply, err := cmd.Run(context.Background(), Request{Args: []string{"SEN-1000001"}, Now: showNow})
	if err != nil {
		t.Fatal(err)
	}
	text := PlainText(reply)
	for _, want := range []string{"Price: USD 10.00 per month", "Next bill: USD 12.00 on 2026-03-01 (VAT 20 % included)",
		"added by alice@acme.test", "Billed to: Acme Ltd, 1 Rocket Road, London EC1A 1AA, United Kingdom", "VAT number GB123456789",
		"SEN-1000001-2026-11-01 · 1 Nov 2026 – 30 Nov 2026 · USD 12.00 · past due", "paid 1 Oct 2026, Visa ending 4242",
		"Older: GET /api/v1/licenses/SEN-1000001/invoices"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
	if strings.Contains(text, "2026-08-01") {
		t.Errorf("more than %d invoices listed:\n%s", showInvoices, text)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(reply.Blocks); err != nil {
		t.Fatal(err)
	}
	golden(t, "license_billing.golden.json", buf.Bytes())
	golden(t, "license_billing.golden.txt", []byte(text))
}

// TestShow_ServerLicenceHasNoPrice (review #22): a server licence, stored
// with the default currency and price 0, shows no price and no billing.
func TestShow_ServerLicenceHasNoPrice(t *testing.T) {
	l := server()
	l.Currency = "USD"
	cmd := ShowCommand(memLicenses{"SEN-2000001": l}, nil, 15*24*time.Hour, WithBilling(demoBilling(), nil))
	reply, err := cmd.Run(context.Background(), Request{Args: []string{"SEN-2000001"}, Now: showNow})
	if err != nil {
		t.Fatal(err)
	}
	text := PlainText(reply)
	for _, bad := range []string{"Price", "USD 0.00", "Next bill", "Invoices", "Billed to"} {
		if strings.Contains(text, bad) {
			t.Errorf("a server licence shows %q:\n%s", bad, text)
		}
	}
}

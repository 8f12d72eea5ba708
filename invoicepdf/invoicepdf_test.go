package invoicepdf_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"licensedesk/internal/clock/clocktest"
	"licensedesk/invoicepdf"
	"licensedesk/licensing"
)

func sample(now time.Time) invoicepdf.Document {
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	return invoicepdf.Document{
		Invoice: licensing.Invoice{
			Number: "SEN-1000001-" + start.Format("2006-01-02"), SEN: "SEN-1000001", Product: "Jira Software", Cycle: licensing.Monthly,
			PeriodStart: start, PeriodEnd: start.AddDate(0, 1, 0), DueDate: start, IssuedAt: start.Add(9 * time.Hour),
			AmountCents: 1200, Currency: "USD", Tax: licensing.TaxLine{Name: "VAT", RateBP: 2000, AmountCents: 200}, Stored: "paid",
			Receipt: &licensing.Receipt{PaidAt: start.Add(9*time.Hour + time.Minute), Card: "Visa ending 4242", ProviderRef: "pi_3Q0demo"},
			BillTo: licensing.BillingAddress{Name: "Acme Ltd — Zoë Ørsted", Lines: []string{"1 Rocket Road", "Floor 2"}, City: "London",
				Postcode: "EC1A 1AA", Country: "GB", TaxID: "GB123456789"},
		},
		Vendor: licensing.Vendor{LegalName: "Licence Desk Ltd", Address: []string{"10 Vendor Street", "Dublin D02 XY45", "Ireland"}, TaxID: "IE1234567WA"},
		Brand:  licensing.Brand{SupportEmail: "help@licensedesk.test"},
		Today:  now,
	}
}

// TestRender_AReceiptWithEveryFact renders a paid invoice and reads its
// text back: every fact an invoice needs is in it, names in any script
// print as typed, and the same invoice makes the same bytes.
func TestRender_AReceiptWithEveryFact(t *testing.T) {
	doc := sample(clocktest.Now(t))
	var a, b bytes.Buffer
	if err := invoicepdf.Render(&a, doc); err != nil {
		t.Fatal(err)
	}
	if err := invoicepdf.Render(&b, doc); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(a.Bytes(), []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", a.Bytes()[:20])
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the same invoice made two different files")
	}
	text := pdfText(t, a.Bytes())
	for _, want := range []string{
		"Licence Desk Ltd", "10 Vendor Street", "IE1234567WA", // the vendor
		"Acme Ltd — Zoë Ørsted", "1 Rocket Road", "EC1A 1AA", "United Kingdom", "VAT number: GB123456789", // the customer
		doc.Invoice.Number, "Jira Software, monthly subscription", doc.Invoice.Period(),
		"Subtotal", "USD 10.00", "VAT (20 %)", "USD 2.00", "USD 12.00",
		"Paid on", "Visa ending 4242", "pi_3Q0demo", "help@licensedesk.test",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF does not say %q:\n%s", want, text)
		}
	}
	if dir := os.Getenv("LICENSEDESK_INVOICE_PDF"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "sample-invoice.pdf"), a.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRender_OpenInvoiceWithoutTaxShowsAZeroLine: no tax configured is a
// zero tax line, and an unpaid invoice says what is owed instead of a
// receipt.
func TestRender_OpenInvoiceWithoutTaxShowsAZeroLine(t *testing.T) {
	now := clocktest.Now(t)
	doc := sample(now)
	doc.Invoice.Stored, doc.Invoice.Receipt, doc.Invoice.Failed = "open", nil, 1
	doc.Invoice.Tax, doc.Invoice.AmountCents = licensing.TaxLine{}, 1000
	doc.Invoice.BillTo = licensing.BillingAddress{}
	var out bytes.Buffer
	if err := invoicepdf.Render(&out, doc); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, out.Bytes())
	for _, want := range []string{"Tax (0 %)", "USD 0.00", "Past due", "No billing address was given"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF does not say %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "receipt") || strings.Contains(text, "Paid on") {
		t.Errorf("an unpaid invoice reads as paid:\n%s", text)
	}
}

// pdfText extracts the text with pdftotext (poppler-utils), or skips.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed: apt-get install poppler-utils")
	}
	cmd := exec.Command(bin, "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

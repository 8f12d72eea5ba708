package licensing

import (
	"testing"
	"time"
)

func TestParseTaxID_EachCountrysShape(t *testing.T) {
	good := []struct {
		country Country
		in, out string
	}{
		{"DE", "DE123456789", "DE123456789"},
		{"DE", "de 123 456 789", "DE123456789"},
		{"DE", "123456789", "DE123456789"}, // prefix added
		{"AT", "U12345678", "ATU12345678"},
		{"AT", "ATU12345678", "ATU12345678"},
		{"GR", "EL123456789", "EL123456789"},
		{"GR", "GR123456789", "EL123456789"},
		{"NL", "NL123456789B01", "NL123456789B01"},
		{"FR", "FR AB123456789", "FRAB123456789"},
		{"IE", "IE1234567WA", "IE1234567WA"},
		{"ES", "ESX1234567X", "ESX1234567X"},
		{"SE", "SE123456789001", "SE123456789001"},
		{"GB", "GB 123 4567 89", "GB123456789"},
		{"GB", "123456789", "GB123456789"},
		{"GB", "GBGD123", "GBGD123"},
		{"AU", "51 824 753 556", "51 824 753 556"},
		{"CA", "123456782", "123456782"},
		{"CA", "123456782RT0001", "123456782RT0001"},
		{"US", "12-3456789", "12-3456789"},
		{"US", "123456789", "12-3456789"},
		{"CH", "CHE-123.456.789", "CHE123456789"},
		{"DE", "", ""},
	}
	for _, tc := range good {
		got, err := ParseTaxID(tc.country, tc.in)
		if err != nil || got != tc.out {
			t.Errorf("%s %q: %q, %v; want %q", tc.country, tc.in, got, err, tc.out)
		}
	}
	bad := []struct {
		country Country
		in      string
	}{
		{"DE", "DE12345"}, {"DE", "FR123456789"}, {"AT", "ATU1234567"}, {"NL", "NL123456789"}, {"GB", "GB12345"},
		{"AU", "51 824 753 557"}, // checksum
		{"CA", "123456789"},      // Luhn
		{"US", "00-1234567"}, {"US", "12-345678"}, {"US", "AB-CDEFGHI"},
		{"CH", "?"}, {"CH", "a\u202eb"}, {"", "DE123456789"},
	}
	for _, tc := range bad {
		if got, err := ParseTaxID(tc.country, tc.in); err == nil || ErrorCode(err) != Invalid {
			t.Errorf("%s %q: accepted as %q (%v)", tc.country, tc.in, got, err)
		}
	}
}

func TestParseBillingAddress_NamesTheFieldAtFault(t *testing.T) {
	ok := BillingAddressInput{Name: " Acme Ltd ", Lines: "1 Rocket Road\r\n\r\nFloor 2", City: "London", Postcode: "EC1A 1AA", Country: "gb", TaxID: "gb123456789"}
	a, err := ParseBillingAddress(ok)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "Acme Ltd" || len(a.Lines) != 2 || a.Country != "GB" || a.TaxID != "GB123456789" {
		t.Errorf("parsed %+v", a)
	}
	for _, tc := range []struct {
		field string
		edit  func(*BillingAddressInput)
	}{
		{"name", func(i *BillingAddressInput) { i.Name = "" }},
		{"lines", func(i *BillingAddressInput) { i.Lines = " \n " }},
		{"lines", func(i *BillingAddressInput) { i.Lines = "a\nb\nc\nd\ne" }},
		{"city", func(i *BillingAddressInput) { i.City = "" }},
		{"postcode", func(i *BillingAddressInput) { i.Postcode = "" }}, // required in GB
		{"country", func(i *BillingAddressInput) { i.Country = "" }},
		{"country", func(i *BillingAddressInput) { i.Country = "UK" }},
		{"country", func(i *BillingAddressInput) { i.Country = "XX" }},
		{"region", func(i *BillingAddressInput) { i.Country, i.TaxID, i.Postcode = "US", "", "97477" }},
		{"tax_id", func(i *BillingAddressInput) { i.TaxID = "DE123456789" }},
		{"name", func(i *BillingAddressInput) { i.Name = "Acme\u202eLtd" }},
	} {
		in := ok
		tc.edit(&in)
		if _, err := ParseBillingAddress(in); ErrorField(err) != tc.field || ErrorCode(err) != Invalid {
			t.Errorf("%+v: %v (field %q); want an error about %s", in, err, ErrorField(err), tc.field)
		}
	}
}

func TestInvoice_StatusAndTaxLines(t *testing.T) {
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	inv := Invoice{DueDate: day, Stored: "open"}
	for _, tc := range []struct {
		inv   Invoice
		today time.Time
		want  InvoiceStatus
	}{
		{inv, day.Add(23 * time.Hour), InvoiceOpen},
		{inv, day.AddDate(0, 0, 1), InvoicePastDue},
		{Invoice{DueDate: day, Stored: "open", Failed: 1}, day, InvoicePastDue},
		{Invoice{DueDate: day, Stored: "paid", Failed: 3}, day.AddDate(1, 0, 0), InvoicePaid},
		{Invoice{DueDate: day, Stored: "void"}, day, InvoiceVoid},
	} {
		if got := tc.inv.Status(tc.today); got != tc.want {
			t.Errorf("%+v on %s: %s; want %s", tc.inv, tc.today, got, tc.want)
		}
	}
	if l := inv.TaxLines(); len(l) != 1 || l[0].Name != "Tax" || l[0].AmountCents != 0 || l[0].Rate() != "0 %" {
		t.Errorf("no tax: %+v", l)
	}
	if r := (TaxLine{RateBP: 825}).Rate(); r != "8.25 %" {
		t.Errorf("rate %q", r)
	}
	if _, err := ParseTaxRules("GB:VAT:20,GB:VAT:5"); err == nil {
		t.Error("two rules for GB accepted")
	}
	for _, bad := range []string{"GB:VAT", "UK:VAT:20", "GB::20", "GB:VAT:101", "GB:VAT:8.125", "GB:VAT:x"} {
		if _, err := ParseTaxRules(bad); err == nil {
			t.Errorf("INVOICE_TAXES=%q accepted", bad)
		}
	}
}

func TestRenewalReminderDue_WithinThirtyDaysOfAnAnnualRenewal(t *testing.T) {
	today := time.Date(2027, 3, 10, 15, 0, 0, 0, time.UTC)
	l := License{Deployment: Cloud, Cycle: Annual, Status: Active}
	for days, want := range map[int]bool{0: false, 1: true, 30: true, 31: false, -1: false} {
		l.NextBillingDate = time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC).AddDate(0, 0, days)
		if got := RenewalReminderDue(l, today); got != want {
			t.Errorf("renewing in %d days: %v", days, got)
		}
	}
	l.NextBillingDate = today.AddDate(0, 0, 10)
	for _, other := range []License{{Deployment: Cloud, Cycle: Monthly, NextBillingDate: l.NextBillingDate},
		{Deployment: Cloud, Cycle: Annual, Status: Cancelled, NextBillingDate: l.NextBillingDate}, {Deployment: Server}} {
		if RenewalReminderDue(other, today) {
			t.Errorf("%+v is due a renewal reminder", other)
		}
	}
}

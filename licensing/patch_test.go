package licensing

import (
	"testing"
	"time"
)

func TestDecodePatch(t *testing.T) {
	p, err := DecodePatch([]byte(`{"next_billing_date": "2027-02-01", "price_minor": 1500, "currency": "eur", "billing_cycle": "annual", "status": "cancelled"}`))
	if err != nil {
		t.Fatal(err)
	}
	if *p.NextBillingDate != time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC) || *p.PriceMinor != 1500 || *p.Currency != "EUR" || *p.Cycle != Annual || *p.Status != Cancelled {
		t.Errorf("patch = %+v", p)
	}
	tests := []struct {
		name, body, field string
	}{
		{"nothing to change", `{}`, ""},
		{"malformed", `{"status": `, ""},
		{"unknown field", `{"colour": "blue"}`, "colour"},
		{"contacts (a PATCH never changes contacts, so never leaves a licence without a primary)", `{"contacts": [{"email": "a@acme.test", "role": "billing", "primary": false}]}`, "contacts"},
		{"site admins", `{"site_admins": []}`, "site_admins"},
		{"the product", `{"product": "Bamboo"}`, "product"},
		{"bad date", `{"next_billing_date": "2027-13-01"}`, "next_billing_date"},
		{"null date", `{"next_billing_date": null}`, "next_billing_date"},
		{"bad price", `{"price_minor": -5}`, "price_minor"},
		{"bad currency", `{"currency": "dollars"}`, "currency"},
		{"bad cycle", `{"billing_cycle": "weekly"}`, "billing_cycle"},
		{"null cycle", `{"billing_cycle": null}`, "billing_cycle"},
		{"billing's status", `{"status": "past_due"}`, "status"},
		{"bad status", `{"status": "gone"}`, "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodePatch([]byte(tt.body))
			wantCode(t, err, Invalid)
			if got := ErrorField(err); got != tt.field {
				t.Errorf("field = %q; want %q (%v)", got, tt.field, err)
			}
		})
	}
}

func TestApplyPatch(t *testing.T) {
	ptr := func(s string) *string { return &s }
	cycle := func(c Cycle) *Cycle { return &c }
	status := func(s Status) *Status { return &s }
	price := func(p int64) *int64 { return &p }
	date := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	pastDue := monthlyDemo()
	pastDue.Status = PastDue
	cancelled := monthlyDemo()
	cancelled.Status = Cancelled
	tests := []struct {
		name    string
		l       License
		p       LicensePatch
		code    Code
		field   string
		changed []string
	}{
		{"renewal", monthlyDemo(), LicensePatch{NextBillingDate: &date, PriceMinor: price(1200)}, "", "", []string{"next_billing_date", "price_minor"}},
		{"the same values change nothing", monthlyDemo(), LicensePatch{Cycle: cycle(Monthly), Status: status(Active), Currency: ptr("USD")}, "", "", nil},
		{"cycle change", monthlyDemo(), LicensePatch{Cycle: cycle(Annual)}, "", "", []string{"billing_cycle"}},
		{"cycle change on a past-due licence", pastDue, LicensePatch{Cycle: cycle(Annual)}, Conflict, "billing_cycle", nil},
		{"price change on a past-due licence", pastDue, LicensePatch{PriceMinor: price(900)}, "", "", []string{"price_minor"}},
		{"cancelling a past-due licence", pastDue, LicensePatch{Status: status(Cancelled)}, "", "", []string{"status"}},
		{"activating a past-due licence", pastDue, LicensePatch{Status: status(Active)}, Conflict, "status", nil},
		{"resuming a cancelled licence", cancelled, LicensePatch{Status: status(Active)}, "", "", []string{"status"}},
		{"a server licence has no cycle", serverDemo(), LicensePatch{Cycle: cycle(Monthly)}, Invalid, "billing_cycle", nil},
		{"a server licence has no date", serverDemo(), LicensePatch{NextBillingDate: &date}, Invalid, "next_billing_date", nil},
		{"cancelling a server licence", serverDemo(), LicensePatch{Status: status(Cancelled)}, "", "", []string{"status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, changes, err := ApplyPatch(tt.l, tt.p)
			wantCode(t, err, tt.code)
			if got := ErrorField(err); got != tt.field {
				t.Errorf("field = %q; want %q", got, tt.field)
			}
			var fields []string
			for _, c := range changes {
				fields = append(fields, c.Field)
			}
			if len(fields) != len(tt.changed) {
				t.Fatalf("changed %v; want %v", fields, tt.changed)
			}
			for i := range fields {
				if fields[i] != tt.changed[i] {
					t.Fatalf("changed %v; want %v", fields, tt.changed)
				}
			}
			if err != nil && LicenseDiff(out, tt.l) != nil {
				t.Error("a refused patch changed the licence")
			}
		})
	}
}

func TestParseFindQuery(t *testing.T) {
	for in, want := range map[string]FindQuery{
		"Alice@Acme.test":      {FindByEmail, "alice@acme.test"},
		" @Acme.TEST ":         {FindByDomain, "acme.test"},
		"acme.example.net":     {FindBySite, "acme.example.net"},
		"Globex.Example.Net  ": {FindBySite, "globex.example.net"},
	} {
		if got, err := ParseFindQuery(in); err != nil || got != want {
			t.Errorf("ParseFindQuery(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "@", "@acme", "alice@", "alice", "acme..net", "@acme.test@x"} {
		_, err := ParseFindQuery(in)
		wantCode(t, err, Invalid)
	}
	if q, err := NewFindQuery(FindByDomain, "@acme.test"); err != nil || q.Value != "acme.test" {
		t.Errorf("NewFindQuery(domain, @acme.test) = %+v, %v", q, err)
	}
	if _, err := NewFindQuery(FindByEmail, "nobody"); ErrorField(err) != "email" {
		t.Errorf("NewFindQuery(email, nobody) = %v; want a field error on email", err)
	}
}

func FuzzDecodePatch(f *testing.F) {
	f.Add([]byte(`{"status": "cancelled"}`))
	f.Add([]byte(`{"billing_cycle": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := DecodePatch(data); err != nil && ErrorCode(err) != Invalid {
			t.Fatalf("error %v has code %s", err, ErrorCode(err))
		}
	})
}

func FuzzParseFindQuery(f *testing.F) {
	for _, s := range []string{"a@b.test", "@b.test", "b.example.net", "@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseFindQuery(s)
		if err != nil {
			return
		}
		if again, err := ParseFindQuery(map[FindBy]string{FindByDomain: "@"}[q.By] + q.Value); err != nil || again != q {
			t.Fatalf("%q: %+v does not read back (%+v, %v)", s, q, again, err)
		}
	})
}

package licensing

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// cloudLine is SPEC §9's example licence.
const cloudLine = `{"sen": "SEN-3000001", "product": "Jira Software", "deployment": "cloud",
 "billing_cycle": "monthly", "site": "acme.example.net",
 "price_minor": 1000, "currency": "USD", "next_billing_date": "2027-01-01",
 "status": "active",
 "contacts": [{"email": "a@acme.test", "role": "billing", "primary": true},
              {"email": "a@acme.test", "role": "technical", "primary": true},
              {"email": "b@acme.test", "role": "technical", "primary": false}],
 "site_admins": ["c@acme.test"], "invite": false}`

const serverLine = `{"sen": "SEN-3000002", "product": "Bitbucket Data Center", "deployment": "server",
 "contacts": [{"email": "h@umbrella.test", "role": "billing", "primary": true},
              {"email": "i@umbrella.test", "role": "technical", "primary": true}]}`

func TestDecodeLicense_SpecExample(t *testing.T) {
	got, sen, err := DecodeLicense([]byte(cloudLine))
	if err != nil {
		t.Fatal(err)
	}
	want := License{
		SEN: "SEN-3000001", Product: "Jira Software", Deployment: Cloud, Cycle: Monthly, Status: Active,
		Site: "acme.example.net", PriceCents: 1000, Currency: "USD",
		NextBillingDate: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		SiteAdmins:      []Email{"c@acme.test"},
		Contacts: []Contact{
			{Email: "a@acme.test", Role: Billing, Primary: true},
			{Email: "a@acme.test", Role: Technical, Primary: true},
			{Email: "b@acme.test", Role: Technical},
		},
	}
	if sen != "SEN-3000001" || got.Invite || LicenseDiff(want, got.License) != nil || !got.License.NextBillingDate.Equal(want.NextBillingDate) {
		t.Errorf("got %+v (sen %q); differs in %v", got, sen, LicenseDiff(want, got.License))
	}
}

func TestDecodeLicense_ServerDefaults(t *testing.T) {
	got, _, err := DecodeLicense([]byte(serverLine))
	if err != nil {
		t.Fatal(err)
	}
	l := got.License
	if l.Status != Active || l.Currency != "USD" || l.Cycle != "" || !l.NextBillingDate.IsZero() || l.Site != "" || len(l.SiteAdmins) != 0 {
		t.Errorf("server licence = %+v", l)
	}
}

func TestDecodeLicense_NormalisesAndSorts(t *testing.T) {
	line := `{"sen": " sen-l12345 ", "product": " Confluence ", "deployment": "CLOUD", "billing_cycle": "Annual",
	 "site": "Globex.Example.NET", "price_minor": 10000, "currency": "eur", "next_billing_date": "2027-06-15", "status": "PAST_DUE",
	 "contacts": [{"email": "Erin@Globex.test", "role": "technical", "primary": true},
	              {"email": "zed@globex.test", "role": "billing"},
	              {"email": "dave@globex.test", "role": "Billing", "primary": true}],
	 "site_admins": ["zoe@globex.test", "Frank@globex.test"], "invite": true}`
	got, _, err := DecodeLicense([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	l := got.License
	if l.SEN != "SEN-L12345" || l.Product != "Confluence" || l.Site != "globex.example.net" || l.Currency != "EUR" ||
		l.Cycle != Annual || l.Status != PastDue || !got.Invite {
		t.Errorf("fields = %+v", got)
	}
	if want := []Email{"frank@globex.test", "zoe@globex.test"}; !slices.Equal(l.SiteAdmins, want) {
		t.Errorf("site admins = %v; want %v", l.SiteAdmins, want)
	}
	var order []string
	for _, c := range l.Contacts {
		order = append(order, string(c.Email)+"/"+string(c.Role))
	}
	if want := []string{"dave@globex.test/billing", "zed@globex.test/billing", "erin@globex.test/technical"}; !slices.Equal(order, want) {
		t.Errorf("contacts = %v; want %v", order, want)
	}
}

// Every bad input of issue 11 is refused with the field it is about.
func TestDecodeLicense_BadInputNamesTheField(t *testing.T) {
	// set replaces one "key": value pair of the example (or adds it).
	set := func(key, value string) string {
		line := strings.ReplaceAll(cloudLine, "\n", "")
		i := strings.Index(line, `"`+key+`"`)
		if i < 0 {
			return strings.TrimSuffix(line, "}") + `, "` + key + `": ` + value + "}"
		}
		j := i + len(key) + 3
		depth := 0
		k := j
		for ; k < len(line); k++ {
			switch line[k] {
			case '[', '{':
				depth++
			case ']', '}':
				depth--
			}
			if depth < 0 || depth == 0 && line[k] == ',' {
				break
			}
		}
		if value == "" { // remove the pair
			if before := strings.TrimRight(line[:i], " "); strings.HasSuffix(before, "{") {
				return before + strings.TrimLeft(line[k:], ", ")
			}
			return strings.TrimRight(line[:i], " ,") + line[k:]
		}
		return line[:j] + " " + value + line[k:]
	}
	server := func(key, value string) string {
		return strings.TrimSuffix(strings.ReplaceAll(serverLine, "\n", ""), "}") + `, "` + key + `": ` + value + "}"
	}
	tests := []struct {
		name, line, field string
	}{
		{"malformed JSON", `{"sen": "SEN-3000001", "product": `, ""},
		{"not an object", `["SEN-3000001"]`, ""},
		{"two objects on a line", cloudLine + ` {}`, ""},
		{"empty", ``, ""},
		{"unknown field", set("colour", `"blue"`), "colour"},
		{"unknown field in a contact", strings.Replace(cloudLine, `"primary": false`, `"primary": false, "name": "Bob"`, 1), "name"},
		{"no SEN", set("sen", ""), "sen"},
		{"bad SEN", set("sen", `"SEN-12"`), "sen"},
		{"SEN not a string", set("sen", `3000001`), "sen"},
		{"no product", set("product", ""), "product"},
		{"product with a line break", set("product", `"Jira\nSoftware"`), "product"},
		{"bad deployment", set("deployment", `"desktop"`), "deployment"},
		{"bad email", strings.Replace(cloudLine, `"b@acme.test"`, `"b@acme"`, 1), "contacts[2].email"},
		{"bad role", strings.Replace(cloudLine, `"role": "technical", "primary": false`, `"role": "sales", "primary": false`, 1), "contacts[2].role"},
		{"bad site admin", set("site_admins", `["carol"]`), "site_admins[0]"},
		{"a site admin twice", set("site_admins", `["c@acme.test", "C@acme.test"]`), "site_admins[1]"},
		{"bad date", set("next_billing_date", `"2027-02-30"`), "next_billing_date"},
		{"date in another format", set("next_billing_date", `"01/01/2027"`), "next_billing_date"},
		{"bad currency", set("currency", `"US$"`), "currency"},
		{"unknown currency", set("currency", `"XYZ"`), "currency"},
		{"a test currency code", set("currency", `"XTS"`), "currency"},
		{"bad cycle", set("billing_cycle", `"weekly"`), "billing_cycle"},
		{"bad status", set("status", `"lapsed"`), "status"},
		{"cloud without site", set("site", ""), "site"},
		{"cloud without cycle", set("billing_cycle", ""), "billing_cycle"},
		{"cloud with a null cycle", set("billing_cycle", "null"), "billing_cycle"},
		{"cloud without price", set("price_minor", ""), "price_minor"},
		{"cloud without currency", set("currency", ""), "currency"},
		{"cloud without date", set("next_billing_date", ""), "next_billing_date"},
		{"zero price", set("price_minor", "0"), "price_minor"},
		{"fractional price", set("price_minor", "10.5"), "price_minor"},
		{"price as a string", set("price_minor", `"1000"`), "price_minor"},
		{"bad site", set("site", `"acme"`), "site"},
		{"server with a cycle", server("billing_cycle", `"monthly"`), "billing_cycle"},
		{"server with a site", server("site", `"x.example.net"`), "site"},
		{"server with a price", server("price_minor", `100`), "price_minor"},
		{"server with a date", server("next_billing_date", `"2027-01-01"`), "next_billing_date"},
		{"server with site admins", server("site_admins", `["c@umbrella.test"]`), "site_admins"},
		{"server past due", server("status", `"past_due"`), "status"},
		{"no contacts", set("contacts", `[]`), "contacts"},
		{"no primary billing", strings.Replace(cloudLine, `"role": "billing", "primary": true`, `"role": "billing", "primary": false`, 1), "contacts"},
		{"no primary in either role", set("contacts", `[{"email": "a@acme.test", "role": "billing"}, {"email": "a@acme.test", "role": "technical"}]`), "contacts"},
		{"two primary technical", strings.Replace(cloudLine, `"primary": false`, `"primary": true`, 1), "contacts"},
		{"a contact twice in one role", set("contacts", `[{"email": "a@acme.test", "role": "billing", "primary": true}, {"email": "a@acme.test", "role": "technical", "primary": true}, {"email": "A@acme.test", "role": "technical"}]`), "contacts[2]"},
		{"invite not a bool", set("invite", `"yes"`), "invite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := DecodeLicense([]byte(tt.line))
			wantCode(t, err, Invalid)
			if got := ErrorField(err); got != tt.field {
				t.Errorf("field = %q; want %q (%v)\nline: %s", got, tt.field, err, tt.line)
			}
			if ErrorMessage(err) == "" {
				t.Error("no message")
			}
		})
	}
}

func TestDecodeLicense_ReportsTheSENOfABadLine(t *testing.T) {
	_, sen, err := DecodeLicense([]byte(`{"sen": "SEN-3000009", "colour": "blue"}`))
	if err == nil || sen != "SEN-3000009" {
		t.Errorf("sen %q, err %v", sen, err)
	}
	if _, sen, _ := DecodeLicense([]byte(`{"sen": "SEN-30`)); sen != "" {
		t.Errorf("sen of malformed JSON = %q", sen)
	}
}

func TestParseCurrency(t *testing.T) {
	if !slices.IsSorted(currencies) || len(slices.Compact(slices.Clone(currencies))) != len(currencies) {
		t.Fatal("the currency list must be sorted without duplicates (ParseCurrency searches it)")
	}
	for in, want := range map[string]string{"USD": "USD", " eur ": "EUR", "Gbp": "GBP", "JPY": "JPY", "CHF": "CHF"} {
		if got, err := ParseCurrency(in); err != nil || got != want {
			t.Errorf("ParseCurrency(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "US", "USDX", "XXX", "XAU", "HRK", "usd1", "ıNR", "U\u0053D\u200b"} {
		_, err := ParseCurrency(in)
		wantCode(t, err, Invalid)
	}
}

func TestParseDate(t *testing.T) {
	if d, err := ParseDate(" 2027-01-31 "); err != nil || d != time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC) {
		t.Errorf("ParseDate = %v, %v", d, err)
	}
	for _, in := range []string{"", "2027-1-31", "2027-02-29", "31.01.2027", "1999-12-31", "2200-01-01", "2027-01-31T00:00:00Z"} {
		_, err := ParseDate(in)
		wantCode(t, err, Invalid)
	}
}

func TestParseSite(t *testing.T) {
	if s, err := ParseSite(" Acme.Example.NET "); err != nil || s != "acme.example.net" {
		t.Errorf("ParseSite = %q, %v", s, err)
	}
	for _, in := range []string{"", "acme", "acme..net", "-acme.net", "acme.net/", "https://acme.net", "ac me.net", "acmé.net", strings.Repeat("a", 250) + ".net"} {
		_, err := ParseSite(in)
		wantCode(t, err, Invalid)
	}
}

func TestLicenseDiff(t *testing.T) {
	base, _, err := DecodeLicense([]byte(cloudLine))
	if err != nil {
		t.Fatal(err)
	}
	stored := base.License
	// What the database reads back: account statuses and a card.
	for i := range stored.Contacts {
		stored.Contacts[i].AccountStatus = AccountPending
	}
	stored.PaymentMethod = &PaymentMethod{Brand: "visa", Last4: "4242", ExpMonth: 1, ExpYear: 2030}
	if d := LicenseDiff(base.License, stored); d != nil {
		t.Fatalf("the same licence differs in %v", d)
	}
	tests := []struct {
		change func(*License)
		want   []string
	}{
		{func(l *License) { l.PriceCents = 2000 }, []string{"price_minor"}},
		{func(l *License) { l.Status = Cancelled; l.Cycle = Annual }, []string{"billing_cycle", "status"}},
		{func(l *License) { l.NextBillingDate = l.NextBillingDate.AddDate(0, 1, 0) }, []string{"next_billing_date"}},
		{func(l *License) { l.Contacts = l.Contacts[:2] }, []string{"contacts"}},
		{func(l *License) { l.Contacts[2].Primary = true; l.Contacts[1].Primary = false }, []string{"contacts"}},
		{func(l *License) { l.SiteAdmins = nil }, []string{"site_admins"}},
	}
	for _, tt := range tests {
		changed := base.License
		changed.Contacts = slices.Clone(base.License.Contacts)
		tt.change(&changed)
		if got := LicenseDiff(changed, stored); !slices.Equal(got, tt.want) {
			t.Errorf("diff = %v; want %v", got, tt.want)
		}
	}
}

func FuzzDecodeLicense(f *testing.F) {
	f.Add([]byte(cloudLine))
	f.Add([]byte(serverLine))
	f.Add([]byte(`{"sen":"SEN-1","contacts":[{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, _, err := DecodeLicense(data)
		if err != nil {
			if ErrorCode(err) != Invalid {
				t.Fatalf("error %v has code %s", err, ErrorCode(err))
			}
			return
		}
		l := got.License
		if err := CheckContacts(l.Contacts); err != nil {
			t.Fatalf("accepted broken contacts: %v", err)
		}
		if (l.Deployment == Cloud) != (l.Cycle != "" && l.Site != "" && !l.NextBillingDate.IsZero() && l.PriceCents > 0) {
			t.Fatalf("accepted %+v", l)
		}
	})
}

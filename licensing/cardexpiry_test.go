package licensing

import (
	"strings"
	"testing"
	"time"
)

func TestCardExpiry_FromThirtyDaysBeforeUntilReplaced(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 0, 0, 0, time.UTC) }
	card := &PaymentMethod{Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2026} // works until 31 Dec 2026
	lic := func(mod func(*License)) License {
		l := License{SEN: "SEN-1000001", Product: "Jira", Deployment: Cloud, Cycle: Monthly, Status: Active,
			PriceCents: 1000, Currency: "USD", NextBillingDate: time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC), PaymentMethod: card}
		if mod != nil {
			mod(&l)
		}
		return l
	}
	if got := CardExpiresOn(12, 2026); !got.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("CardExpiresOn(12, 2026) = %v", got)
	}
	tests := []struct {
		name    string
		l       License
		now     time.Time
		want    bool
		expired bool
		text    string
	}{
		{"31 days before: nothing yet", lic(nil), day(2026, 12, 1).Add(-9 * time.Hour), false, false, ""},
		{"30 days before", lic(nil), day(2026, 12, 2), true, false, "works until 31 Dec 2026. The next charge, USD 10.00 on 15 Jan 2027, would fail"},
		{"the last good day", lic(nil), day(2026, 12, 31), true, false, "works until 31 Dec 2026"},
		{"expired", lic(nil), day(2027, 1, 8), true, true, "expired after 31 Dec 2026"},
		{"charge before the expiry", lic(func(l *License) { l.NextBillingDate = time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC) }), day(2026, 12, 10), true, false, "keep the charges after that"},
		{"cancelled licence", lic(func(l *License) { l.Status = Cancelled }), day(2026, 12, 20), false, false, ""},
		{"server licence", lic(func(l *License) { l.Deployment = Server }), day(2026, 12, 20), false, false, ""},
		{"no card", lic(func(l *License) { l.PaymentMethod = nil }), day(2026, 12, 20), false, false, ""},
		{"a new card", lic(func(l *License) {
			l.PaymentMethod = &PaymentMethod{Brand: "visa", Last4: "1111", ExpMonth: 12, ExpYear: 2030}
		}), day(2026, 12, 20), false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CardExpiry(tt.l, tt.now)
			if (got != nil) != tt.want {
				t.Fatalf("CardExpiry = %+v; want a notice %v", got, tt.want)
			}
			if got == nil {
				return
			}
			if got.Expired != tt.expired || !strings.Contains(got.Sentence(), tt.text) || got.Card != "Visa ending 4242" {
				t.Errorf("%+v: %q / %q", got, got.Title(), got.Sentence())
			}
		})
	}
}

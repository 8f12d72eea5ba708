package licensing

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// InvoiceStatus is an invoice's state as customers and sales read it.
// The database keeps open, paid and void; past due is an open invoice
// whose charge failed or whose due date has gone by.
type InvoiceStatus string

const (
	InvoiceOpen    InvoiceStatus = "open"
	InvoicePaid    InvoiceStatus = "paid"
	InvoicePastDue InvoiceStatus = "past_due"
	InvoiceVoid    InvoiceStatus = "void"
)

// Words is the status on a page: "Open", "Paid", "Past due", "Void".
func (s InvoiceStatus) Words() string {
	switch s {
	case InvoicePastDue:
		return "Past due"
	case "":
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// TaxLine is one tax of an invoice: its name ("VAT"), its rate in hundredths
// of a percent (2000 = 20 %) and its amount in minor units.
type TaxLine struct {
	Name        string `json:"name"`
	RateBP      int    `json:"rate_bp"`
	AmountCents int64  `json:"amount_minor"`
}

// Rate is the rate as a page shows it: "20 %", "8.25 %".
func (t TaxLine) Rate() string {
	s := fmt.Sprintf("%d.%02d", t.RateBP/100, t.RateBP%100)
	s = strings.TrimSuffix(strings.TrimSuffix(s, "0"), "0")
	return strings.TrimSuffix(s, ".") + " %"
}

// Receipt is how a paid invoice was paid.
type Receipt struct {
	PaidAt      time.Time
	Card        string // "Visa ending 4242"; "" when the card is no longer known
	ProviderRef string // the payment provider's reference (Stripe: pi_…)
}

// Invoice is one invoice of a licence with everything its page, its PDF
// and the API show.
type Invoice struct {
	Number      string
	SEN         SEN
	Product     string
	Cycle       Cycle
	PeriodStart time.Time
	PeriodEnd   time.Time // the first day of the next period
	DueDate     time.Time
	IssuedAt    time.Time
	AmountCents int64 // the total charged, taxes included
	Currency    string
	Tax         TaxLine // Name "" when no tax is configured for the customer
	Stored      string  // open, paid or void, as the database keeps it
	Failed      int     // charges that failed
	Receipt     *Receipt
	BillTo      BillingAddress // as it was when the invoice was made
}

// Status is the invoice's status on day today.
func (i Invoice) Status(today time.Time) InvoiceStatus {
	switch i.Stored {
	case "paid":
		return InvoicePaid
	case "void":
		return InvoiceVoid
	}
	if i.Failed > 0 || dateOnly(i.DueDate).Before(dateOnly(today)) {
		return InvoicePastDue
	}
	return InvoiceOpen
}

// SubtotalCents is the amount before taxes.
func (i Invoice) SubtotalCents() int64 { return i.AmountCents - i.Tax.AmountCents }

// TaxLines are the invoice's tax lines: the configured tax, or one zero
// line ("Tax 0 %") when none applies, so the reader sees none was charged.
func (i Invoice) TaxLines() []TaxLine {
	if i.Tax.Name == "" {
		return []TaxLine{{Name: "Tax"}}
	}
	return []TaxLine{i.Tax}
}

// Period is the billed period as people write it, last day included:
// "4 Dec 2026 – 3 Jan 2027".
func (i Invoice) Period() string {
	return ShortDate(i.PeriodStart) + " – " + ShortDate(i.PeriodEnd.AddDate(0, 0, -1))
}

// Description is the invoice's one line: "Confluence (cloud), annual
// subscription".
func (i Invoice) Description() string {
	switch i.Cycle {
	case Annual:
		return i.Product + ", annual subscription"
	case Monthly:
		return i.Product + ", monthly subscription"
	}
	return i.Product
}

func dateOnly(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// InvoicePage is a page of a licence's invoices, newest first.
type InvoicePage struct {
	Invoices   []Invoice
	NextCursor string // opaque; "" on the last page
}

// TaxRule is the tax charged to customers in one country ("*": any
// country without a rule of its own): name and rate in hundredths of a
// percent, added to the price.
type TaxRule struct {
	Country Country
	Name    string
	RateBP  int
}

// TaxRules are the configured taxes (INVOICE_TAXES); none: invoices carry
// a zero tax line.
type TaxRules []TaxRule

// For returns the rule for a customer in country c, or ok false.
func (rs TaxRules) For(c Country) (TaxRule, bool) {
	var any *TaxRule
	for i, r := range rs {
		if r.Country == c && c != "" {
			return r, true
		}
		if r.Country == "*" {
			any = &rs[i]
		}
	}
	if any != nil {
		return *any, true
	}
	return TaxRule{}, false
}

// TaxCents is the tax on price at rate (hundredths of a percent), rounded
// half up to the minor unit, as the database computes it when invoicing.
func TaxCents(priceCents int64, rateBP int) int64 {
	if priceCents <= 0 || rateBP <= 0 {
		return 0
	}
	return (priceCents*int64(rateBP) + 5000) / 10000
}

// ParseTaxRules reads INVOICE_TAXES: comma-separated COUNTRY:NAME:PERCENT
// ("GB:VAT:20,DE:USt:19,*:Sales tax:0"), the percent with at most two
// decimals, COUNTRY an ISO 3166 code or * for every other country. Empty:
// no rules.
func ParseTaxRules(s string) (TaxRules, error) {
	var out TaxRules
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	seen := map[Country]bool{}
	for _, item := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(item), ":")
		if len(parts) != 3 {
			return nil, fmt.Errorf("%q is not COUNTRY:NAME:PERCENT (e.g. GB:VAT:20)", strings.TrimSpace(item))
		}
		var c Country
		if strings.TrimSpace(parts[0]) == "*" {
			c = "*"
		} else {
			var err error
			if c, err = ParseCountry(parts[0]); err != nil {
				return nil, fmt.Errorf("%q: %s", strings.TrimSpace(item), ErrorMessage(err))
			}
		}
		if seen[c] {
			return nil, fmt.Errorf("%s has two rules", c)
		}
		seen[c] = true
		name := strings.TrimSpace(parts[1])
		if name == "" || len(name) > 40 || CheckText("tax name", name, 40, false) != nil {
			return nil, fmt.Errorf("%q: the tax needs a name of at most 40 characters", strings.TrimSpace(item))
		}
		bp, err := parsePercent(strings.TrimSpace(parts[2]))
		if err != nil {
			return nil, fmt.Errorf("%q: %v", strings.TrimSpace(item), err)
		}
		out = append(out, TaxRule{Country: c, Name: name, RateBP: bp})
	}
	return out, nil
}

// parsePercent reads "20", "8.25" as hundredths of a percent, 0 to 100 %.
func parsePercent(s string) (int, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		return 0, fmt.Errorf("the rate %q has more than two decimals", s)
	}
	frac += strings.Repeat("0", 2-len(frac))
	w, err1 := strconv.Atoi(whole)
	f, err2 := strconv.Atoi(frac)
	if err1 != nil || err2 != nil || w < 0 || f < 0 || w*100+f > 10000 {
		return 0, fmt.Errorf("the rate %q is not a percentage from 0 to 100", s)
	}
	return w*100 + f, nil
}

// Vendor is who issues the invoices: the seller's legal name, address and
// tax ID (VENDOR_LEGAL_NAME, VENDOR_ADDRESS, VENDOR_TAX_ID).
type Vendor struct {
	LegalName string
	Address   []string
	TaxID     string
}

// ParseVendorAddress splits VENDOR_ADDRESS into lines at ";" or a newline.
func ParseVendorAddress(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// RenewalNotice is how long before an annual licence renews its
// renewal reminder goes out.
const RenewalNotice = 30 * 24 * time.Hour

// RenewalReminderDue reports whether l's renewal reminder is due on day
// today: an annual cloud licence that is not cancelled and renews within
// RenewalNotice, but not today or earlier (the invoice itself comes then).
func RenewalReminderDue(l License, today time.Time) bool {
	if l.Deployment != Cloud || l.Cycle != Annual || l.Status == Cancelled || l.NextBillingDate.IsZero() {
		return false
	}
	next, day := dateOnly(l.NextBillingDate), dateOnly(today)
	return next.After(day) && !next.After(day.Add(RenewalNotice))
}

// InvoicePath is where an invoice's page is, below the public base URL:
// mails link there (the reader signs in to see it), and its PDF is at
// InvoicePath + "/pdf".
func InvoicePath(number string) string { return "/account/invoices/" + url.PathEscape(number) }

// ErrNoSuchInvoice answers anyone asking for an invoice that is not theirs
// to see, and any number that does not exist, alike: the answer must not
// tell which invoices exist.
var ErrNoSuchInvoice = Errorf(NotFound, "There is no invoice of yours with that number. Invoices are shown to the contacts and site admins of their licence, signed in.")

// NextBill is what a licence is charged next, and when.
type NextBill struct {
	Date        time.Time
	AmountCents int64 // price plus tax
	Currency    string
	Tax         TaxLine // Name "" when no tax applies
}

// Amount is the next bill's amount, "USD 10.00".
func (n NextBill) Amount() string { return FormatMoney(n.AmountCents, n.Currency) }

// NextBillOf is l's next bill for a customer billed at addr, with the
// configured taxes; nil when l is not billed (a server, cancelled or free
// licence).
func NextBillOf(l License, addr BillingAddress, taxes TaxRules) *NextBill {
	if l.Deployment != Cloud || l.Status == Cancelled || l.PriceCents <= 0 || l.NextBillingDate.IsZero() {
		return nil
	}
	n := &NextBill{Date: l.NextBillingDate, AmountCents: l.PriceCents, Currency: l.Currency}
	if r, ok := taxes.For(addr.Country); ok {
		n.Tax = TaxLine{Name: r.Name, RateBP: r.RateBP, AmountCents: TaxCents(l.PriceCents, r.RateBP)}
		n.AmountCents += n.Tax.AmountCents
	}
	return n
}

// Plan is what a licence is, as a customer reads it: "Jira Software,
// cloud, billed monthly at USD 10.00 a month"; a server licence has no
// price.
func Plan(l License) string {
	s := l.Product + ", " + string(l.Deployment)
	if l.Deployment != Cloud || l.PriceCents <= 0 {
		return s
	}
	per := map[Cycle]string{Monthly: "a month", Annual: "a year"}[l.Cycle]
	return s + ", " + FormatMoney(l.PriceCents, l.Currency) + " " + per
}

package licensing

import (
	"strings"
)

// BillingAddress is who a licence's invoices are made out to (SPEC §2:
// site admins see and change it). Country is empty only for an address
// kept from before addresses had fields (its text is in Lines); every
// address saved since has one.
type BillingAddress struct {
	Name     string   `json:"name"`  // the company or person billed
	Lines    []string `json:"lines"` // street, building, floor…
	City     string   `json:"city"`
	Postcode string   `json:"postcode"`
	Region   string   `json:"region"`  // state, province or county
	Country  Country  `json:"country"` // ISO 3166-1 alpha-2
	TaxID    string   `json:"tax_id"`  // normalised (ParseTaxID); optional
}

// Limits of a billing address's fields, in characters.
const (
	MaxAddressName  = 200
	MaxAddressLine  = 200
	MaxAddressLines = 4
	MaxCity         = 100
	MaxPostcode     = 20
	MaxRegion       = 100
)

// IsZero reports whether nothing is set.
func (a BillingAddress) IsZero() bool {
	return a.Name == "" && len(a.Lines) == 0 && a.City == "" && a.Postcode == "" && a.Region == "" && a.Country == "" && a.TaxID == ""
}

// Legacy reports whether the address is one kept from the free-text box,
// before it had fields: it has lines and nothing else.
func (a BillingAddress) Legacy() bool {
	return a.Country == "" && len(a.Lines) > 0
}

// Printed is the address as an envelope or an invoice shows it, a line
// at a time: name, street lines, "city region postcode", country.
func (a BillingAddress) Printed() []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	add(a.Name)
	for _, l := range a.Lines {
		add(l)
	}
	add(strings.Join(nonEmpty(a.City, a.Region, a.Postcode), " "))
	if a.Country != "" {
		add(a.Country.Name())
	}
	return out
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// BillingAddressInput is a billing address as a form or the API sends it.
type BillingAddressInput struct {
	Name, Lines, City, Postcode, Region, Country, TaxID string // Lines: one per line
}

// ParseBillingAddress checks a billing address field by field (each error
// names its field: name, lines, city, postcode, region, country, tax_id).
// A name, a first line, a city and a country are needed, and a postcode
// and a state or province where the post needs them (the United States,
// Canada, Australia; a postcode in the United Kingdom); the tax ID is
// checked for the country's shape (ParseTaxID).
func ParseBillingAddress(in BillingAddressInput) (BillingAddress, error) {
	var a BillingAddress
	one := func(field, label, v string, max int, required bool) (string, error) {
		v = strings.TrimSpace(v)
		if v == "" && required {
			return "", FieldErrorf(Invalid, field, "Fill in the %s of the billing address.", label)
		}
		if err := CheckText(label, v, max, false); err != nil {
			return "", &Error{Code: Invalid, Message: ErrorMessage(err), Field: field}
		}
		return v, nil
	}
	var err error
	if a.Name, err = one("name", "name", in.Name, MaxAddressName, true); err != nil {
		return BillingAddress{}, err
	}
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(in.Lines, "\r\n", "\n"), "\r", "\n"), "\n")
	for _, l := range lines {
		l, err := one("lines", "address line", l, MaxAddressLine, false)
		if err != nil {
			return BillingAddress{}, err
		}
		if l != "" {
			a.Lines = append(a.Lines, l)
		}
	}
	if len(a.Lines) == 0 {
		return BillingAddress{}, FieldErrorf(Invalid, "lines", "Fill in the street address of the billing address.")
	}
	if len(a.Lines) > MaxAddressLines {
		return BillingAddress{}, FieldErrorf(Invalid, "lines", "Use at most %d lines for the street address.", MaxAddressLines)
	}
	if a.City, err = one("city", "city", in.City, MaxCity, true); err != nil {
		return BillingAddress{}, err
	}
	if a.Country, err = ParseCountry(in.Country); err != nil {
		return BillingAddress{}, err
	}
	needPostcode, needRegion := postcodeRequired[a.Country], regionRequired[a.Country]
	if a.Postcode, err = one("postcode", "postcode", in.Postcode, MaxPostcode, needPostcode); err != nil {
		return BillingAddress{}, err
	}
	if a.Region, err = one("region", regionLabel(a.Country), in.Region, MaxRegion, needRegion); err != nil {
		return BillingAddress{}, err
	}
	if a.TaxID, err = ParseTaxID(a.Country, in.TaxID); err != nil {
		return BillingAddress{}, err
	}
	return a, nil
}

var (
	postcodeRequired = map[Country]bool{"US": true, "CA": true, "AU": true, "GB": true}
	regionRequired   = map[Country]bool{"US": true, "CA": true, "AU": true}
)

func regionLabel(c Country) string {
	switch c {
	case "US", "AU":
		return "state"
	case "CA":
		return "province"
	}
	return "region"
}

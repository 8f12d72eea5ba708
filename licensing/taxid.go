package licensing

import (
	"regexp"
	"strings"
)

// Tax IDs on invoices: a customer's VAT number, ABN, business number or
// EIN, checked for the shape its country gives it, so a typo is caught when
// it is typed and not when a finance team rejects the invoice.

// taxIDRule is the shape of one country's tax ID, after normalising
// (upper case; spaces, dots and dashes removed; for VAT numbers the country
// prefix included).
type taxIDRule struct {
	name    string         // what the country calls it
	pattern *regexp.Regexp // the whole normalised ID
	example string
	check   func(string) bool // a checksum, where one is published
	format  func(string) string
}

// euVAT is the VAT number of each EU member state (and Northern Ireland's
// XI), prefix included: the prefix is the country code except Greece's EL.
var euVAT = map[Country]struct{ prefix, body, example string }{
	"AT": {"ATU", `[0-9]{8}`, "ATU12345678"},
	"BE": {"BE", `[01][0-9]{9}`, "BE0123456789"},
	"BG": {"BG", `[0-9]{9,10}`, "BG123456789"},
	"CY": {"CY", `[0-9]{8}[A-Z]`, "CY12345678X"},
	"CZ": {"CZ", `[0-9]{8,10}`, "CZ12345678"},
	"DE": {"DE", `[0-9]{9}`, "DE123456789"},
	"DK": {"DK", `[0-9]{8}`, "DK12345678"},
	"EE": {"EE", `[0-9]{9}`, "EE123456789"},
	"GR": {"EL", `[0-9]{9}`, "EL123456789"},
	"ES": {"ES", `[A-Z0-9][0-9]{7}[A-Z0-9]`, "ESX1234567X"},
	"FI": {"FI", `[0-9]{8}`, "FI12345678"},
	"FR": {"FR", `[0-9A-HJ-NP-Z]{2}[0-9]{9}`, "FR12345678901"},
	"HR": {"HR", `[0-9]{11}`, "HR12345678901"},
	"HU": {"HU", `[0-9]{8}`, "HU12345678"},
	"IE": {"IE", `[0-9][0-9A-Z+*][0-9]{5}[A-Z]{1,2}`, "IE1234567WA"},
	"IT": {"IT", `[0-9]{11}`, "IT12345678901"},
	"LT": {"LT", `[0-9]{9}|[0-9]{12}`, "LT123456789"},
	"LU": {"LU", `[0-9]{8}`, "LU12345678"},
	"LV": {"LV", `[0-9]{11}`, "LV12345678901"},
	"MT": {"MT", `[0-9]{8}`, "MT12345678"},
	"NL": {"NL", `[0-9]{9}B[0-9]{2}`, "NL123456789B01"},
	"PL": {"PL", `[0-9]{10}`, "PL1234567890"},
	"PT": {"PT", `[0-9]{9}`, "PT123456789"},
	"RO": {"RO", `[0-9]{2,10}`, "RO1234567890"},
	"SE": {"SE", `[0-9]{10}01`, "SE123456789001"},
	"SI": {"SI", `[0-9]{8}`, "SI12345678"},
	"SK": {"SK", `[0-9]{10}`, "SK1234567890"},
}

var taxIDRules = map[Country]taxIDRule{}

func init() {
	for c, v := range euVAT {
		taxIDRules[c] = taxIDRule{name: "VAT number", pattern: regexp.MustCompile(`^` + v.prefix + `(?:` + v.body + `)$`), example: v.example}
	}
	taxIDRules["GB"] = taxIDRule{name: "VAT number", pattern: regexp.MustCompile(`^GB(?:[0-9]{9}|[0-9]{12}|GD[0-4][0-9]{2}|HA[5-9][0-9]{2})$`), example: "GB123456789"}
	taxIDRules["AU"] = taxIDRule{name: "ABN", pattern: regexp.MustCompile(`^[0-9]{11}$`), example: "51 824 753 556", check: abnValid,
		format: func(s string) string { return s[:2] + " " + s[2:5] + " " + s[5:8] + " " + s[8:] }}
	taxIDRules["CA"] = taxIDRule{name: "business number", pattern: regexp.MustCompile(`^[0-9]{9}(?:RT[0-9]{4})?$`), example: "123456782 or 123456782RT0001",
		check: func(s string) bool { return luhn(s[:9]) }}
	taxIDRules["US"] = taxIDRule{name: "EIN", pattern: regexp.MustCompile(`^[0-9]{9}$`), example: "12-3456789", check: einPrefixValid,
		format: func(s string) string { return s[:2] + "-" + s[2:] }}
}

// MaxTaxID bounds a tax ID of a country without a known shape.
const MaxTaxID = 32

// otherTaxID is what a tax ID of any other country may hold.
var otherTaxID = regexp.MustCompile(`^[A-Z0-9]{2,32}$`)

// TaxIDName is what the country calls its tax ID ("VAT number", "ABN"),
// for a label.
func TaxIDName(c Country) string {
	if r, ok := taxIDRules[c]; ok {
		return r.name
	}
	return "tax ID"
}

// ParseTaxID checks a tax ID for the country of the billing address and
// returns it normalised: upper case, without spaces, dots or dashes, with
// the VAT prefix of an EU country or GB (added when it was left out), an
// ABN in groups and an EIN as 12-3456789. Empty is allowed (it is
// optional). A tax ID needs a country, since its shape depends on it.
func ParseTaxID(c Country, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if c == "" {
		return "", FieldErrorf(Invalid, "country", "Choose the country of the billing address: the shape of a tax ID depends on it.")
	}
	if err := CheckText("tax ID", s, MaxTaxID+8, false); err != nil {
		return "", &Error{Code: Invalid, Message: ErrorMessage(err), Field: "tax_id"}
	}
	norm := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '.', '-', '/', '\u00a0':
			return -1
		}
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
	r, ok := taxIDRules[c]
	if !ok {
		if !otherTaxID.MatchString(norm) {
			return "", FieldErrorf(Invalid, "tax_id", "%q is not a tax ID: use 2 to %d letters and digits.", s, MaxTaxID)
		}
		return norm, nil
	}
	if v, eu := euVAT[c]; eu {
		body := norm
		for _, p := range []string{v.prefix, string(c)} {
			if strings.HasPrefix(body, p) {
				body = body[len(p):]
				break
			}
		}
		if c == "AT" {
			body = strings.TrimPrefix(body, "U")
		}
		norm = v.prefix + body
	}
	if c == "GB" && !strings.HasPrefix(norm, "GB") {
		norm = "GB" + norm
	}
	if !r.pattern.MatchString(norm) || (r.check != nil && !r.check(norm)) {
		return "", FieldErrorf(Invalid, "tax_id", "%q is not a valid %s for %s: it looks like %s.", s, r.name, c.Name(), r.example)
	}
	if r.format != nil {
		return r.format(norm), nil
	}
	return norm, nil
}

// abnValid is the Australian Business Register's check: subtract 1 from the
// first digit, weight the digits 10, 1, 3, 5 … 19, and the sum divides by 89.
func abnValid(s string) bool {
	weights := [11]int{10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19}
	sum := 0
	for i := range 11 {
		d := int(s[i] - '0')
		if i == 0 {
			d--
		}
		sum += d * weights[i]
	}
	return sum%89 == 0
}

// luhn is the check digit a Canadian business number's first nine digits
// carry.
func luhn(s string) bool {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// einPrefixValid refuses the EIN prefixes the IRS never assigns.
func einPrefixValid(s string) bool {
	switch s[:2] {
	case "00", "07", "08", "09", "17", "18", "19", "28", "29", "49", "69", "70", "78", "79", "89", "96", "97":
		return false
	}
	return true
}

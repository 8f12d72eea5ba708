package licensing

import (
	"slices"
	"strings"
)

// currencies are the ISO 4217 codes a licence may be priced in: the
// circulating currencies in use. Fund codes (BOV, CHE, CLF, USN...),
// precious metals (XAU...), the test code XTS, "no currency" XXX and
// withdrawn codes (HRK, CUC...) are refused: nobody is billed in them.
var currencies = strings.Fields(`
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL
BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD
EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR
ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP
LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD
NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP
TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER
ZAR ZMW ZWG`)

// ParseCurrency accepts an ISO 4217 code of a circulating currency, e.g.
// "USD", trimmed, in any case, and returns it in upper case.
func ParseCurrency(s string) (string, error) {
	t := strings.TrimSpace(s)
	if len(t) == 3 {
		// ASCII letters only, upper-cased by hand: strings.ToUpper would turn
		// look-alikes such as U+0131 (dotless i) into ASCII.
		b := []byte(t)
		for i, c := range b {
			if 'a' <= c && c <= 'z' {
				b[i] = c - 'a' + 'A'
			}
		}
		if _, ok := slices.BinarySearch(currencies, string(b)); ok {
			return string(b), nil
		}
	}
	return "", Errorf(Invalid, "%s is not a currency: expected an ISO 4217 code such as USD, EUR or GBP", quoteInput(t))
}

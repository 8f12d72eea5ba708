package licensing

import (
	"fmt"
	"strings"
)

// FormatMoney renders an amount in minor units, e.g. FormatMoney(1000, "usd")
// is "USD 10.00". It assumes two decimals, as for every currency we bill in.
func FormatMoney(cents int64, currency string) string {
	sign := ""
	u := uint64(cents)
	if cents < 0 {
		sign = "-"
		u = -u // two's complement: also right for math.MinInt64
	}
	amount := fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
	if c := strings.ToUpper(strings.TrimSpace(currency)); c != "" {
		return c + " " + amount
	}
	return amount
}

// JoinWords writes a list as a sentence does: "a", "a and b", "a, b and c".
func JoinWords(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

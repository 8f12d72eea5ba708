package licensing

import (
	"fmt"
	"strings"
)

// maxQuotedRunes bounds how much of a caller's input an error message echoes,
// so a pasted novel (or an attack) cannot flood Slack or the logs.
const maxQuotedRunes = 40

// quoteInput quotes s with %q after cutting it to maxQuotedRunes runes.
func quoteInput(s string) string {
	n := 0
	for i := range s {
		if n == maxQuotedRunes {
			return fmt.Sprintf("%q", s[:i]+"…")
		}
		n++
	}
	return fmt.Sprintf("%q", s)
}

// lowerASCII lower-cases ASCII letters only. strings.ToLower would also fold
// characters such as U+212A KELVIN SIGN into ASCII 'k', letting look-alike
// input turn into someone else's identifier.
func lowerASCII(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

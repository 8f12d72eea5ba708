package licensing

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var canonicalSEN = regexp.MustCompile(`^SEN-L?[0-9]{5,12}$`)

func TestParseSEN_AcceptsValidForms(t *testing.T) {
	tests := []struct {
		name, in string
		want     SEN
	}{
		{"canonical", "SEN-1000001", "SEN-1000001"},
		{"canonical with L", "SEN-L1234567", "SEN-L1234567"},
		{"lowercase with L", "sen-l1234567", "SEN-L1234567"},
		{"mixed case", "Sen-L1234567", "SEN-L1234567"},
		{"surrounding spaces", " SEN-1000001 ", "SEN-1000001"},
		{"tabs and newlines", "\t\nsen-1000001\r\n", "SEN-1000001"},
		{"non-breaking spaces around", "\u00a0SEN-1000001\u00a0", "SEN-1000001"},
		{"five digits", "SEN-12345", "SEN-12345"},
		{"twelve digits", "SEN-123456789012", "SEN-123456789012"},
		{"L with five digits", "SEN-L12345", "SEN-L12345"},
		{"L with twelve digits", "SEN-L123456789012", "SEN-L123456789012"},
		{"leading zeros kept", "SEN-00001", "SEN-00001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSEN(tt.in)
			wantCode(t, err, "")
			if got != tt.want {
				t.Fatalf("ParseSEN(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseSEN_RejectsEverythingElse(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"only spaces", "   "},
		{"too few digits", "SEN-12"},
		{"four digits", "SEN-1234"},
		{"thirteen digits", "SEN-1234567890123"},
		{"missing dash", "SEN1000001"},
		{"L without digits", "SEN-L"},
		{"prefix only", "SEN-"},
		{"digits only", "1000001"},
		{"double L", "SEN-LL12345"},
		{"L after digits", "SEN-12345L"},
		{"other letter", "SEN-X12345"},
		{"space after dash", "SEN- 1000001"},
		{"space before dash", "SEN -1000001"},
		{"space inside digits", "SEN-1000 001"},
		{"underscore", "SEN_1000001"},
		{"en dash", "SEN–1000001"},
		{"sign", "SEN-+12345"},
		{"arabic-indic digits", "SEN-١٢٣٤٥٦٧"},
		{"fullwidth digits", "SEN-１２３４５６７"},
		{"long s folds to s", "ſEN-1000001"},
		{"kelvin sign is not K", "SEN-\u212a12345"},
		{"trailing NUL", "SEN-1000001\x00"},
		{"invalid UTF-8", "SEN-\xff12345"},
		{"extra prefix", "XSEN-1000001"},
		{"two SENs", "SEN-1000001 SEN-1000002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSEN(tt.in)
			wantCode(t, err, Invalid)
			if got != "" {
				t.Fatalf("ParseSEN(%q) returned %q alongside an error", tt.in, got)
			}
		})
	}
}

func TestParseSEN_ErrorMessageQuotesTrimmedInput(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SEN-12", `"SEN-12" is not a SEN: expected SEN- followed by 5–12 digits, e.g. SEN-1000001`},
		{"  sen 1 ", `"sen 1" is not a SEN: expected SEN- followed by 5–12 digits, e.g. SEN-1000001`},
		{"", `"" is not a SEN: expected SEN- followed by 5–12 digits, e.g. SEN-1000001`},
		{"a\"b\x01", `"a\"b\x01" is not a SEN: expected SEN- followed by 5–12 digits, e.g. SEN-1000001`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseSEN(tt.in)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("ParseSEN(%q) error = %v, want %s", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseSEN_ErrorMessageTruncatesLongInputTo40Runes(t *testing.T) {
	tests := []struct{ name, in, quoted string }{
		{"ascii", strings.Repeat("x", 100_000), `"` + strings.Repeat("x", 40) + `…"`},
		{"multibyte", strings.Repeat("é", 41), `"` + strings.Repeat("é", 40) + `…"`},
		{"exactly 40 runes", strings.Repeat("é", 40), `"` + strings.Repeat("é", 40) + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSEN(tt.in)
			wantCode(t, err, Invalid)
			if !strings.HasPrefix(err.Error(), tt.quoted+" is not a SEN") {
				t.Fatalf("message %q does not start with %s", err.Error(), tt.quoted)
			}
		})
	}
}

func TestSEN_StringReturnsCanonicalForm(t *testing.T) {
	s, err := ParseSEN(" sen-l00042 ")
	wantCode(t, err, "")
	if s.String() != "SEN-L00042" {
		t.Fatalf("String() = %q", s.String())
	}
}

func FuzzParseSEN(f *testing.F) {
	for _, s := range []string{
		"SEN-1000001", "sen-l1234567", " SEN-1000001 ", "SEN-12", "SEN-1234567890123",
		"SEN1000001", "SEN-L", "SEN-١٢٣٤٥٦٧", "SEN-1000 001", "", "ſEN-12345", "SEN-\xff12345",
		strings.Repeat("é", 50),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseSEN(in)
		if err != nil {
			if ErrorCode(err) != Invalid || got != "" {
				t.Fatalf("ParseSEN(%q) = %q, %v", in, got, err)
			}
			msg := err.Error()
			if !strings.HasSuffix(msg, " is not a SEN: expected SEN- followed by 5–12 digits, e.g. SEN-1000001") {
				t.Fatalf("unexpected message %q", msg)
			}
			// 40 runes, each escaped to at most 10 bytes, plus quotes and "…".
			if len(msg) > 42*10+100 || !utf8.ValidString(msg) {
				t.Fatalf("message not bounded or not UTF-8: %q", msg)
			}
			return
		}
		if !canonicalSEN.MatchString(string(got)) {
			t.Fatalf("ParseSEN(%q) = %q, not canonical", in, got)
		}
		again, err := ParseSEN(string(got))
		if err != nil || again != got {
			t.Fatalf("re-parsing %q gave %q, %v", got, again, err)
		}
		if !strings.EqualFold(strings.TrimSpace(in), string(got)) {
			t.Fatalf("ParseSEN(%q) = %q changed more than case and spacing", in, got)
		}
	})
}

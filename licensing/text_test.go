package licensing

import (
	"strings"
	"testing"
)

func TestCheckDisplayName(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string // the cleaned name; "" when refused
		msg      string // part of the refusal
	}{
		{"plain", "Alice Anders", "Alice Anders", ""},
		{"trimmed", "  Zoë Ångström\t\n", "Zoë Ångström", ""},
		{"right to left", "أليس", "أليس", ""},
		{"zero-width joiner in an emoji", "Alice 👩‍💻", "Alice 👩‍💻", ""},
		{"longest", strings.Repeat("é", MaxDisplayName), strings.Repeat("é", MaxDisplayName), ""},
		{"empty", "", "", "Enter a display name"},
		{"spaces", "   ", "", "Enter a display name"},
		{"too long", strings.Repeat("n", MaxDisplayName+1), "", "too long: use at most 200 characters (it has 201)"},
		{"CR LF", "Alice\r\nBcc: mallory@evil.test", "", "control character"},
		{"LF", "Alice\nAnders", "", "control character"},
		{"tab", "Alice\tAnders", "", "control character"},
		{"NUL", "Alice\x00", "", "control character"},
		{"escape", "Alice\x1b[31m", "", "control character"},
		{"DEL", "Alice\x7f", "", "control character"},
		{"C1 control", "Alice\u0085Anders", "", "control character"},
		{"line separator", "Alice\u2028Anders", "", "control character"},
		{"right-to-left override", "Alice\u202Egnp.exe", "", "changes the direction of text (U+202E)"},
		{"left-to-right embedding", "\u202AAlice", "", "(U+202A)"},
		{"isolate", "Alice\u2067x\u2069", "", "(U+2067)"},
		{"right-to-left mark", "Alice\u200F", "", "(U+200F)"},
		{"arabic letter mark", "Alice\u061C", "", "(U+061C)"},
		{"invalid UTF-8", "Alice\xff", "", "characters we can't read"},
	} {
		got, err := CheckDisplayName(tc.in)
		if tc.msg == "" {
			if err != nil || got != tc.want {
				t.Errorf("%s: CheckDisplayName(%q) = %q, %v; want %q", tc.name, tc.in, got, err, tc.want)
			}
			continue
		}
		if got != "" || ErrorCode(err) != Invalid || !strings.Contains(ErrorMessage(err), tc.msg) {
			t.Errorf("%s: CheckDisplayName(%q) = %q, %v; want Invalid saying %q", tc.name, tc.in, got, err, tc.msg)
		}
	}
}

func TestCheckText_MultilineAllowsLineBreaksAndTabsOnly(t *testing.T) {
	wantCode(t, CheckText("address", "1 Road\n\tTown", MaxAddress, true), "")
	wantCode(t, CheckText("address", "1 Road\rTown", MaxAddress, true), Invalid)
	wantCode(t, CheckText("address", "1 Road\u202ETown", MaxAddress, true), Invalid)
	wantCode(t, CheckText("company", "Acme\nInc", MaxCompany, false), Invalid)
}

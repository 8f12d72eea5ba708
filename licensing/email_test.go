package licensing

import (
	"strings"
	"testing"
)

func TestParseEmail_AcceptsAndNormalises(t *testing.T) {
	label63 := strings.Repeat("d", 63)
	local64 := strings.Repeat("l", 64)
	// 64 + 1 + 189 = 254, the longest address allowed.
	longest := local64 + "@" + label63 + "." + label63 + "." + strings.Repeat("d", 61)
	tests := []struct {
		name, in string
		want     Email
	}{
		{"plain", "alice@acme.test", "alice@acme.test"},
		{"trimmed and lower-cased", "  Alice@ACME.Test\n", "alice@acme.test"},
		{"dots in local part", "a.b.c@acme.test", "a.b.c@acme.test"},
		{"plus tag", "alice+licences@acme.test", "alice+licences@acme.test"},
		{"apostrophe", "o'brien@acme.test", "o'brien@acme.test"},
		{"every atext symbol", "!#$%&'*+-/=?^_`{|}~@acme.test", "!#$%&'*+-/=?^_`{|}~@acme.test"},
		{"digits everywhere", "123@456.789", "123@456.789"},
		{"hyphenated label", "a@my-site.example.net", "a@my-site.example.net"},
		{"single-character labels", "a@b.c", "a@b.c"},
		{"local part of 64", local64 + "@acme.test", Email(local64 + "@acme.test")},
		{"label of 63", "a@" + label63 + ".test", Email("a@" + label63 + ".test")},
		{"254 characters", longest, Email(longest)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEmail(tt.in)
			wantCode(t, err, "")
			if got != tt.want {
				t.Fatalf("ParseEmail(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseEmail_RejectsEverythingElse(t *testing.T) {
	label63 := strings.Repeat("d", 63)
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"spaces", "   "},
		{"no at", "alice.acme.test"},
		{"two ats", "alice@bob@acme.test"},
		{"doubled at", "alice@@acme.test"},
		{"empty local part", "@acme.test"},
		{"empty domain", "alice@"},
		{"single-label domain", "alice@localhost"},
		{"leading dot", ".alice@acme.test"},
		{"trailing dot in local part", "alice.@acme.test"},
		{"consecutive dots", "al..ice@acme.test"},
		{"quoted local part", `"alice smith"@acme.test`},
		{"display name", "Alice <alice@acme.test>"},
		{"angle brackets", "<alice@acme.test>"},
		{"inner space", "alice smith@acme.test"},
		{"space before at", "alice @acme.test"},
		{"comment", "alice(work)@acme.test"},
		{"label starts with hyphen", "alice@-acme.test"},
		{"label ends with hyphen", "alice@acme-.test"},
		{"empty label", "alice@acme..test"},
		{"trailing dot in domain", "alice@acme.test."},
		{"leading dot in domain", "alice@.acme.test"},
		{"underscore in domain", "alice@ac_me.test"},
		{"IP literal", "alice@[127.0.0.1]"},
		{"non-ASCII local part", "zoë@acme.test"},
		{"non-ASCII domain", "alice@acmé.test"},
		{"kelvin sign would lower to k", "\u212aen@acme.test"},
		{"NUL", "alice\x00@acme.test"},
		{"invalid UTF-8", "alice\xff@acme.test"},
		{"mailto prefix", "mailto:alice@acme.test"},
		{"local part of 65", strings.Repeat("l", 65) + "@acme.test"},
		{"label of 64", "a@" + label63 + "d.test"},
		{"255 characters", strings.Repeat("l", 64) + "@" + label63 + "." + label63 + "." + strings.Repeat("d", 62)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEmail(tt.in)
			wantCode(t, err, Invalid)
			if got != "" {
				t.Fatalf("ParseEmail(%q) returned %q alongside an error", tt.in, got)
			}
		})
	}
}

func TestParseEmail_ErrorMessageQuotesTruncatedInput(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Alice <a@b.c>", `"Alice <a@b.c>" is not an email address`},
		{" nope ", `"nope" is not an email address`},
		{strings.Repeat("x", 300), `"` + strings.Repeat("x", 40) + `…" is not an email address`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := ParseEmail(tt.in)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("ParseEmail(%q) error = %v, want %s", tt.in, err, tt.want)
			}
		})
	}
}

func TestEmail_DomainAndString(t *testing.T) {
	tests := []struct {
		in           Email
		domain, text string
	}{
		{"alice@acme.test", "acme.test", "alice@acme.test"},
		{"a@b.example.net", "b.example.net", "a@b.example.net"},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := tt.in.Domain(); got != tt.domain {
			t.Errorf("%q.Domain() = %q, want %q", tt.in, got, tt.domain)
		}
		if got := tt.in.String(); got != tt.text {
			t.Errorf("%q.String() = %q, want %q", tt.in, got, tt.text)
		}
	}
}

func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{
		"alice@acme.test", " Alice@ACME.Test ", "Alice <a@b.c>", `"a b"@c.d`, "a..b@c.d",
		"a@b", "a@-b.c", "\u212aen@acme.test", "a@b.c.", "", "@", "a@b@c.d",
		strings.Repeat("l", 64) + "@" + strings.Repeat("d", 63) + ".test",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseEmail(in)
		if err != nil {
			if ErrorCode(err) != Invalid || got != "" {
				t.Fatalf("ParseEmail(%q) = %q, %v", in, got, err)
			}
			if !strings.HasSuffix(err.Error(), " is not an email address") || len(err.Error()) > 42*10+100 {
				t.Fatalf("unexpected message %q", err.Error())
			}
			return
		}
		s := string(got)
		if len(s) > 254 || s != strings.ToLower(s) || strings.Count(s, "@") != 1 {
			t.Fatalf("ParseEmail(%q) = %q: not lower-case, too long or not one @", in, got)
		}
		if !strings.EqualFold(strings.TrimSpace(in), s) {
			t.Fatalf("ParseEmail(%q) = %q changed more than case and spacing", in, got)
		}
		again, err := ParseEmail(s)
		if err != nil || again != got {
			t.Fatalf("re-parsing %q gave %q, %v", got, again, err)
		}
		if got.Domain() == "" || !strings.Contains(got.Domain(), ".") {
			t.Fatalf("%q has domain %q", got, got.Domain())
		}
	})
}

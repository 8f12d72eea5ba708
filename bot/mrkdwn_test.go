package bot

import (
	"slices"
	"strings"
	"testing"
)

func TestTokenize_UnwrapsSlackFormatting(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"", nil},
		{"  show   SEN-1000001\t", []string{"show", "SEN-1000001"}},
		{"verify SEN-1000001 <mailto:a@b.test|a@b.test>", []string{"verify", "SEN-1000001", "a@b.test"}},
		{"verify SEN-1000001 <mailto:a@b.test>", []string{"verify", "SEN-1000001", "a@b.test"}},
		{"show <http://acme.example.net|acme.example.net>", []string{"show", "acme.example.net"}},
		{"show <https://x.test/a>", []string{"show", "https://x.test/a"}},
		{"a&amp;b &lt;x&gt;", []string{"a&b", "<x>"}},
		{"<mailto:a@b.test|a@b.test>,<mailto:c@d.test|c@d.test>", []string{"a@b.test,c@d.test"}},
	}
	for _, tt := range tests {
		if got := tokenize(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("tokenize(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestPlainMrkdwn_ReadsWellInATerminal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"*Status*\nActive", "Status\nActive"},
		{"see <https://ui.test/wf|the workflow>", "see the workflow (https://ui.test/wf)"},
		{"<mailto:a@b.test|a@b.test>", "a@b.test"},
		{"<https://ui.test/wf>", "https://ui.test/wf"},
		{"`/license show &lt;SEN&gt;` &amp; more", "/license show <SEN> & more"},
		{"<https://x.test/?a=1&amp;b=2|x &amp; y>", "x & y (https://x.test/?a=1&b=2)"},
		{"&amp;lt;", "&lt;"},
	}
	for _, tt := range tests {
		if got := plainMrkdwn(tt.in); got != tt.want {
			t.Errorf("plainMrkdwn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"show SEN-1000001", "move SEN-1 <mailto:a@b.c|a@b.c> --from x", "<http://x|y>", "<@U123>", "  \t\n", "<mailto:|>", "<<|>>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range tokenize(s) {
			if tok == "" || strings.ContainsAny(tok, " \t\n") {
				t.Fatalf("tokenize(%q) gave token %q", s, tok)
			}
		}
	})
}

package config_test

import (
	"os"
	"strings"
	"testing"

	"licensedesk/config"
)

func TestUseSandbox_OnlyOnPurposeOutsideDev(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		dev     bool
		sandbox bool
		err     string // the error starts with this; "" = no error
	}{
		{"serve without a key", nil, false, false, "STRIPE_SECRET_KEY is not set"},
		{"serve with a key", map[string]string{"STRIPE_SECRET_KEY": "sk_test_x"}, false, false, ""},
		{"serve, sandbox on purpose", map[string]string{"PAYMENTS_SANDBOX": "true"}, false, true, ""},
		{"serve, sandbox refused", map[string]string{"PAYMENTS_SANDBOX": "false"}, false, false, "STRIPE_SECRET_KEY is not set"},
		{"dev without a key", nil, true, true, ""},
		{"dev with a key", map[string]string{"STRIPE_SECRET_KEY": "sk_test_x"}, true, false, ""},
		{"dev, sandbox refused", map[string]string{"PAYMENTS_SANDBOX": "false"}, true, false, "STRIPE_SECRET_KEY is not set"},
		{"both", map[string]string{"PAYMENTS_SANDBOX": "true", "STRIPE_SECRET_KEY": "sk_test_x"}, false, false, "PAYMENTS_SANDBOX=true and STRIPE_SECRET_KEY are both set"},
		{"not a boolean", map[string]string{"PAYMENTS_SANDBOX": "yes"}, true, false, `PAYMENTS_SANDBOX is "yes": want true or false`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Load(func(k string) string { return tc.env[k] })
			sandbox, err := cfg.UseSandbox(tc.dev)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)):
				t.Fatalf("error %v; want one starting %q", err, tc.err)
			case err == nil && sandbox != tc.sandbox:
				t.Fatalf("sandbox = %v, want %v", sandbox, tc.sandbox)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is more than one line: %q", err)
			}
		})
	}
}

func TestHelp_ListsPaymentsSandbox(t *testing.T) {
	if !strings.Contains(config.Help(), "PAYMENTS_SANDBOX") {
		t.Error("--help does not list PAYMENTS_SANDBOX")
	}
}

func TestBrand_DefaultsAndRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // the brand's name, or the error's start
		err  bool
	}{
		{"default", nil, "Licence Desk", false},
		{"named", map[string]string{"BRAND_NAME": " Acme Licensing ", "SUPPORT_EMAIL": "help@acme.test", "SUPPORT_URL": "https://acme.test/help"}, "Acme Licensing", false},
		{"email with a name", map[string]string{"SUPPORT_EMAIL": "Help <help@acme.test>"}, "SUPPORT_EMAIL", true},
		{"not an email", map[string]string{"SUPPORT_EMAIL": "help"}, "SUPPORT_EMAIL", true},
		{"relative URL", map[string]string{"SUPPORT_URL": "/help"}, "SUPPORT_URL", true},
		{"script URL", map[string]string{"SUPPORT_URL": "javascript:alert(1)"}, "SUPPORT_URL", true},
		{"long name", map[string]string{"BRAND_NAME": strings.Repeat("x", 61)}, "BRAND_NAME", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Load(func(k string) string { return tc.env[k] })
			b, err := cfg.Brand()
			switch {
			case tc.err && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Fatalf("error %v; want one starting %q", err, tc.want)
			case !tc.err && err != nil:
				t.Fatalf("error %v", err)
			case !tc.err && b.Name != tc.want:
				t.Fatalf("name %q, want %q", b.Name, tc.want)
			}
		})
	}
}

const long = "0123456789abcdef0123456789abcdef"

func TestCheckSafe_RefusesPlaceholdersShortSecretsAndEveryone(t *testing.T) {
	good := map[string]string{
		"SLACK_SIGNING_SECRET": long, "STRIPE_WEBHOOK_SECRET": "whsec_" + long, "ADMIN_API_TOKEN": long,
		"SLACK_ALLOW_READ": "S0READERS", "SLACK_ALLOW_ACT": "U0123,S0ACT",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		err  string // "" = accepted
	}{
		{"good", good, ""},
		{"placeholder signing secret", with("SLACK_SIGNING_SECRET", "replace-with-slack-signing-secret"), "SLACK_SIGNING_SECRET still holds the example's placeholder"},
		{"placeholder API token", with("ADMIN_API_TOKEN", "replace-with-a-long-random-token"), "ADMIN_API_TOKEN still holds"},
		{"placeholder database password", with("DATABASE_URL", "postgres://licensedesk:CHANGE-ME@db:5432/licensedesk"), "DATABASE_URL still holds"},
		{"placeholder Stripe key", with("STRIPE_SECRET_KEY", "sk_test_replace_me"), "STRIPE_SECRET_KEY still holds"},
		{"short API token", with("ADMIN_API_TOKEN", "secret"), "ADMIN_API_TOKEN is 6 characters: use at least 32"},
		{"short signing secret", with("SLACK_SIGNING_SECRET", "chaos-signing-secret"), "SLACK_SIGNING_SECRET is 20 characters"},
		{"short codec token", with("TEMPORAL_CODEC_AUTH_TOKEN", "codec"), "TEMPORAL_CODEC_AUTH_TOKEN is 5 characters"},
		{"no API token at all", with("ADMIN_API_TOKEN", ""), ""},
		{"read for everyone", with("SLACK_ALLOW_READ", "*"), "SLACK_ALLOW_READ is *: every member"},
		{"act for everyone, among others", with("SLACK_ALLOW_ACT", "U0123, *"), "SLACK_ALLOW_ACT is *"},
		{"everyone on purpose", func() map[string]string {
			m := with("SLACK_ALLOW_READ", "*")
			m["SLACK_ALLOW_EVERYONE"] = "true"
			return m
		}(), ""},
		{"everyone, not a boolean", with("SLACK_ALLOW_EVERYONE", "yes"), `SLACK_ALLOW_EVERYONE is "yes"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Load(func(k string) string { return tc.env[k] })
			err := cfg.CheckSafe()
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)):
				t.Fatalf("error %v; want one starting %q", err, tc.err)
			}
			for _, v := range tc.env {
				if err != nil && len(v) >= 8 && strings.Contains(err.Error(), v) {
					t.Errorf("the error repeats a secret: %v", err)
				}
			}
		})
	}
}

// Every secret the deploy examples ship is refused as it stands.
func TestCheckSafe_RefusesEveryExamplePlaceholder(t *testing.T) {
	examples := map[string]string{}
	for _, f := range []string{"../deploy/env.example", "../deploy/kubernetes/secret.example.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				k, v, ok = strings.Cut(line, ": ")
			}
			if ok {
				examples[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
			}
		}
	}
	for _, name := range []string{"SLACK_SIGNING_SECRET", "ADMIN_API_TOKEN", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "DATABASE_URL", "SLACK_BOT_TOKEN", "SMTP_URL", "TEMPORAL_CODEC_KEYS"} {
		v := examples[name]
		if v == "" {
			continue
		}
		cfg := config.Load(func(k string) string {
			if k == name {
				return v
			}
			return ""
		})
		if err := cfg.CheckSafe(); err == nil {
			t.Errorf("%s=%q from the examples is accepted", name, v)
		}
	}
}

func TestPacing_DefaultsKeepStripesLimitsAndBadValuesNameTheSetting(t *testing.T) {
	cfg := config.Load(func(string) string { return "" })
	p, err := cfg.Pacing()
	if err != nil {
		t.Fatal(err)
	}
	if p.PaymentsRate != 25 || p.SandboxRate != 25 || p.SandboxLatency.String() != "300ms" || p.SandboxKeyWindow.String() != "24h0m0s" ||
		p.SMTPRate != 0 || p.LargeInvoiceCents != 100000 {
		t.Errorf("defaults %+v", p)
	}
	for name, bad := range map[string]string{
		"PAYMENTS_RATE": "fast", "SMTP_RATE": "-1", "PAYMENTS_SANDBOX_RATE": "NaN",
		"PAYMENTS_SANDBOX_LATENCY": "2h", "PAYMENTS_SANDBOX_KEY_WINDOW": "0s", "BILLING_LARGE_INVOICE": "a lot",
	} {
		cfg := config.Load(func(k string) string {
			if k == name {
				return bad
			}
			return ""
		})
		if _, err := cfg.Pacing(); err == nil || !strings.HasPrefix(err.Error(), name+": ") {
			t.Errorf("%s=%q: %v; want an error naming it", name, bad, err)
		}
	}
}

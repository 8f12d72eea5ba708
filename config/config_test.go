package config_test

import (
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

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

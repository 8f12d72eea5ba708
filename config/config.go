// Package config reads licensedesk's settings from the environment (SPEC §5).
// Every subcommand states which settings it needs; a missing one stops the
// process at start with one line naming it.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"licensedesk/licensing"
)

// Config holds every setting. Field comments name the variable.
type Config struct {
	DatabaseURL         string // DATABASE_URL
	TemporalAddress     string // TEMPORAL_ADDRESS
	TemporalNamespace   string // TEMPORAL_NAMESPACE, default "default"
	TemporalTaskQueue   string // TEMPORAL_TASK_QUEUE, default "licensedesk"
	TemporalAPIKey      string // TEMPORAL_API_KEY (Temporal Cloud; enables TLS)
	TemporalUIURL       string // TEMPORAL_UI_URL, for links to workflows (and the codec server's CORS origin)
	TemporalTLSCA       string // TEMPORAL_TLS_CA: PEM file of the CA the frontend's certificate is checked against
	TemporalTLSCert     string // TEMPORAL_TLS_CERT: PEM client certificate for mTLS
	TemporalTLSKey      string // TEMPORAL_TLS_KEY: PEM key of that certificate
	TemporalTLSServer   string // TEMPORAL_TLS_SERVER_NAME: the name in the frontend's certificate
	TemporalCodecKeys   string // TEMPORAL_CODEC_KEYS: id:base64-key,... (first encrypts, all decrypt)
	TemporalCodecToken  string // TEMPORAL_CODEC_AUTH_TOKEN: bearer token of the codec server
	PublicBaseURL       string // PUBLIC_BASE_URL
	HTTPAddr            string // HTTP_ADDR, default 127.0.0.1:8080
	AdminHTTPAddr       string // ADMIN_HTTP_ADDR: serve's listener for metrics, readiness and the codec server
	SlackSigningSecret  string // SLACK_SIGNING_SECRET
	SlackBotToken       string // SLACK_BOT_TOKEN
	SlackAppToken       string // SLACK_APP_TOKEN
	SlackAPIURL         string // SLACK_API_URL, default Slack's own
	SlackChannel        string // SLACK_CHANNEL
	SlackAllowRead      string // SLACK_ALLOW_READ
	SlackAllowAct       string // SLACK_ALLOW_ACT
	SlackAllowEveryone  string // SLACK_ALLOW_EVERYONE: "true" lets the allow-lists be * outside dev
	SlackTeamID         string // SLACK_TEAM_ID
	SlackEnterpriseID   string // SLACK_ENTERPRISE_ID
	StripeSecretKey     string // STRIPE_SECRET_KEY
	StripeWebhookSecret string // STRIPE_WEBHOOK_SECRET
	StripeAPIURL        string // STRIPE_API_URL
	PaymentsSandbox     string // PAYMENTS_SANDBOX: "true" runs the payments sandbox outside dev, on purpose
	SandboxFaults       string // PAYMENTS_SANDBOX_FAULTS: the chaos harness's faults (sandbox only)
	PaymentsRate        string // PAYMENTS_RATE: provider requests a second, shared by every worker
	SandboxLatency      string // PAYMENTS_SANDBOX_LATENCY: how long the sandbox takes to answer a charge
	SandboxRate         string // PAYMENTS_SANDBOX_RATE: requests a second the sandbox answers before 429
	SandboxKeyWindow    string // PAYMENTS_SANDBOX_KEY_WINDOW: how long the sandbox remembers idempotency keys
	SMTPURL             string // SMTP_URL
	MailFrom            string // MAIL_FROM
	SMTPRate            string // SMTP_RATE: mails a second handed to SMTP, shared by every worker
	BrandName           string // BRAND_NAME, default "Licence Desk"
	SupportEmail        string // SUPPORT_EMAIL
	SupportURL          string // SUPPORT_URL
	AdminAPIToken       string // ADMIN_API_TOKEN
	TrustProxy          string // TRUST_PROXY: "true" behind a reverse proxy that sets X-Forwarded-For
	BillingRetryDays    string // BILLING_RETRY_DAYS, default "1,3,7,14"
	BillingSuspendDays  string // BILLING_SUSPEND_DAYS, default "15"
	BillingSweep        string // BILLING_SWEEP_INTERVAL, default "5m"
	WebhookAllowPrivate string // WEBHOOK_ALLOW_PRIVATE: "true" lets webhooks reach http:// and private addresses
	VendorLegalName     string // VENDOR_LEGAL_NAME: who issues the invoices
	VendorAddress       string // VENDOR_ADDRESS: its address, lines separated by ";"
	VendorTaxID         string // VENDOR_TAX_ID: its VAT number or other tax ID
	InvoiceTaxes        string // INVOICE_TAXES: COUNTRY:NAME:PERCENT,...; empty = a zero tax line
	BillingLarge        string // BILLING_LARGE_INVOICE: amount from which a failed charge is listed in the digest's thread
	LogLevel            string // LOG_LEVEL: debug, info, warn, error
	LogFormat           string // LOG_FORMAT: json or text
}

// vars maps each variable to its field, in the order of SPEC §5.
func (c *Config) vars() []struct {
	name string
	dst  *string
	def  string
	help string
} {
	return []struct {
		name string
		dst  *string
		def  string
		help string
	}{
		{"DATABASE_URL", &c.DatabaseURL, "", "PostgreSQL connection URL, e.g. postgres://user:pass@host:5432/licensedesk"},
		{"TEMPORAL_ADDRESS", &c.TemporalAddress, "", "Temporal frontend host:port, e.g. temporal:7233"},
		{"TEMPORAL_NAMESPACE", &c.TemporalNamespace, "default", "Temporal namespace"},
		{"TEMPORAL_TASK_QUEUE", &c.TemporalTaskQueue, "licensedesk", "task queue the worker polls"},
		{"TEMPORAL_API_KEY", &c.TemporalAPIKey, "", "API key for Temporal Cloud (turns on TLS)"},
		{"TEMPORAL_UI_URL", &c.TemporalUIURL, "", "base URL of the Temporal UI, for links to workflows; its origin may call the codec server"},
		{"TEMPORAL_TLS_CA", &c.TemporalTLSCA, "", "PEM file: the CA that signed the Temporal frontend's certificate (turns on TLS)"},
		{"TEMPORAL_TLS_CERT", &c.TemporalTLSCert, "", "PEM file: client certificate for mTLS to a self-hosted Temporal (with TEMPORAL_TLS_KEY; re-read when it rotates)"},
		{"TEMPORAL_TLS_KEY", &c.TemporalTLSKey, "", "PEM file: the private key of TEMPORAL_TLS_CERT"},
		{"TEMPORAL_TLS_SERVER_NAME", &c.TemporalTLSServer, "", "the host name in the frontend's certificate, when TEMPORAL_ADDRESS is another name (turns on TLS)"},
		{"TEMPORAL_CODEC_KEYS", &c.TemporalCodecKeys, "", "AES-256 keys that encrypt every Temporal payload: id:base64-32-bytes[,id:key...]; the first encrypts, all decrypt (rotate: add the new key last, roll out, then move it first). Empty: histories are written in clear (dev makes a key)"},
		{"TEMPORAL_CODEC_AUTH_TOKEN", &c.TemporalCodecToken, "", "bearer token of the codec server at ADMIN_HTTP_ADDR/codec (the Temporal UI and temporal --codec-endpoint --codec-auth); at least 32 characters; empty: no codec server"},
		{"PUBLIC_BASE_URL", &c.PublicBaseURL, "", "the URL customers reach this server at; emailed links are built from it"},
		{"HTTP_ADDR", &c.HTTPAddr, "127.0.0.1:8080", "address the HTTP server listens on"},
		{"ADMIN_HTTP_ADDR", &c.AdminHTTPAddr, "", "serve: a second, private listener for /metrics, /readyz, /healthz and the codec server, which then leave HTTP_ADDR (e.g. :9090)"},
		{"SLACK_SIGNING_SECRET", &c.SlackSigningSecret, "", "the Slack app's signing secret"},
		{"SLACK_BOT_TOKEN", &c.SlackBotToken, "", "the Slack bot token (xoxb-...)"},
		{"SLACK_APP_TOKEN", &c.SlackAppToken, "", "Slack app-level token (xapp-...) for Socket Mode"},
		{"SLACK_API_URL", &c.SlackAPIURL, "", "Slack Web API base URL (tests point it at a local server)"},
		{"SLACK_CHANNEL", &c.SlackChannel, "", "channel ID where alerts go"},
		{"SLACK_ALLOW_READ", &c.SlackAllowRead, "", "Slack user/group IDs allowed to run help, show, find, history, status (* = all, outside dev only with SLACK_ALLOW_EVERYONE=true; give it a sales user group)"},
		{"SLACK_ALLOW_ACT", &c.SlackAllowAct, "", "Slack user/group IDs allowed to run every subcommand (* = all; outside dev only with SLACK_ALLOW_EVERYONE=true)"},
		{"SLACK_ALLOW_EVERYONE", &c.SlackAllowEveryone, "", "true: allow * in SLACK_ALLOW_READ/SLACK_ALLOW_ACT outside dev, on purpose (every member of every workspace the app is in, guests included)"},
		{"SLACK_TEAM_ID", &c.SlackTeamID, "", "the one Slack workspace (T...) served: commands, buttons, forms and events from any other are refused and logged"},
		{"SLACK_ENTERPRISE_ID", &c.SlackEnterpriseID, "", "on Enterprise Grid, the one organisation (E...) served; others are refused and logged"},
		{"STRIPE_SECRET_KEY", &c.StripeSecretKey, "", "Stripe secret key (sk_live_... or sk_test_...)"},
		{"STRIPE_WEBHOOK_SECRET", &c.StripeWebhookSecret, "", "Stripe webhook signing secret (whsec_...)"},
		{"STRIPE_API_URL", &c.StripeAPIURL, "", "Stripe API base URL (tests point it at stripe-mock)"},
		{"PAYMENTS_SANDBOX", &c.PaymentsSandbox, "", "true: use the payments sandbox instead of Stripe (test cards only, nobody is charged; dev does by default)"},
		{"PAYMENTS_SANDBOX_FAULTS", &c.SandboxFaults, "", "sandbox only, for the chaos harness: drop=P,error=P,slow=P[,seed=N] (charges answered late, lost after charging, or refused)"},
		{"PAYMENTS_RATE", &c.PaymentsRate, "25", "requests a second to the payment provider, shared by every worker (Stripe: 100 live and 25 test a second, 25 a second per endpoint); 0: unpaced"},
		{"PAYMENTS_SANDBOX_LATENCY", &c.SandboxLatency, "300ms", "sandbox only: how long a charge takes to answer, as Stripe's confirm does"},
		{"PAYMENTS_SANDBOX_RATE", &c.SandboxRate, "25", "sandbox only: requests a second it answers before 429 rate_limit, as Stripe's test mode; 0: no limit"},
		{"PAYMENTS_SANDBOX_KEY_WINDOW", &c.SandboxKeyWindow, "24h", "sandbox only: how long it remembers idempotency keys, as Stripe's 24 hours"},
		{"SMTP_URL", &c.SMTPURL, "", "SMTP server: smtp+starttls://user:pass@host:587 (TLS required), smtps://...:465, or smtp://... (STARTTLS if offered); SSL_CERT_FILE names a private CA"},
		{"SMTP_RATE", &c.SMTPRate, "0", "mails a second handed to SMTP_URL, shared by every worker (your relay's cap); 0: unpaced, the relay's 421/451/454 answers are retried with backoff either way"},
		{"MAIL_FROM", &c.MailFrom, "no-reply@licensedesk.test", "From address of outgoing mail; without a name (Name <address>), the product name (BRAND_NAME)"},
		{"BRAND_NAME", &c.BrandName, licensing.DefaultBrandName, "the product name customers see in page headers, mails and the From name"},
		{"SUPPORT_EMAIL", &c.SupportEmail, "", "where customers write for help: the \"contact us\" of every page footer, error page and mail"},
		{"SUPPORT_URL", &c.SupportURL, "", "a help page for customers; \"contact us\" links to it (before SUPPORT_EMAIL)"},
		{"ADMIN_API_TOKEN", &c.AdminAPIToken, "", "bearer token for /api/v1"},
		{"BILLING_RETRY_DAYS", &c.BillingRetryDays, "1,3,7,14", "days after an invoice's due date on which a failed charge is retried"},
		{"BILLING_SUSPEND_DAYS", &c.BillingSuspendDays, "15", "days after the due date when an unpaid licence is suspended (earlier if retries run out)"},
		{"BILLING_SWEEP_INTERVAL", &c.BillingSweep, "5m", "how often the billing sweep invoices the licences whose billing date has come (10s to 24h)"},
		{"WEBHOOK_ALLOW_PRIVATE", &c.WebhookAllowPrivate, "", "true: webhook endpoints may be http:// and on private, loopback or link-local addresses (tests, a receiver on this host; dev allows them anyway); otherwise https:// to public addresses only"},
		{"VENDOR_LEGAL_NAME", &c.VendorLegalName, "", "the legal name of the company that issues the invoices, printed on every invoice (BRAND_NAME when unset)"},
		{"VENDOR_ADDRESS", &c.VendorAddress, "", "that company's address on the invoices, lines separated by \";\", e.g. \"1 Main Street;London EC1A 1AA;United Kingdom\""},
		{"VENDOR_TAX_ID", &c.VendorTaxID, "", "that company's VAT number or other tax ID on the invoices"},
		{"INVOICE_TAXES", &c.InvoiceTaxes, "", "tax added to invoices by the customer's country: COUNTRY:NAME:PERCENT,... (e.g. GB:VAT:20,DE:USt:19; * for any other country); unset: invoices show a zero tax line"},
		{"BILLING_LARGE_INVOICE", &c.BillingLarge, "1000", "an invoice of at least this amount (in its own currency) whose charge fails is listed in the billing digest's thread; 0: none"},
		{"TRUST_PROXY", &c.TrustProxy, "", "true when behind a reverse proxy that sets X-Forwarded-For (sign-in throttling keys on the client address it gives)"},
		{"LOG_LEVEL", &c.LogLevel, "info", "debug, info, warn or error"},
		{"LOG_FORMAT", &c.LogFormat, "json", "json or text"},
	}
}

// Load reads every variable through getenv, applying defaults.
func Load(getenv func(string) string) Config {
	var c Config
	for _, v := range c.vars() {
		*v.dst = strings.TrimSpace(getenv(v.name))
		if *v.dst == "" {
			*v.dst = v.def
		}
	}
	return c
}

// Require returns an error naming the first of names that is unset.
func (c *Config) Require(names ...string) error {
	for _, want := range names {
		found := false
		for _, v := range c.vars() {
			if v.name != want {
				continue
			}
			found = true
			if *v.dst == "" {
				return fmt.Errorf("%s is not set: %s", v.name, v.help)
			}
		}
		if !found {
			panic("config: unknown variable " + want)
		}
	}
	return nil
}

// UseSandbox says whether the payments sandbox stands in for Stripe, and
// refuses settings that do not say which provider to use. With
// STRIPE_SECRET_KEY it is Stripe. Without it, dev uses the sandbox, but
// serve and worker only when PAYMENTS_SANDBOX=true asks for it: on the
// sandbox anyone with a card link can "pay" with a test card, so running it
// must never be the accident of a missing key.
func (c *Config) UseSandbox(dev bool) (bool, error) {
	var sandbox bool
	switch c.PaymentsSandbox {
	case "":
		sandbox = dev
	case "true":
		sandbox = true
	case "false":
	default:
		return false, fmt.Errorf("PAYMENTS_SANDBOX is %q: want true or false", c.PaymentsSandbox)
	}
	switch {
	case c.StripeSecretKey != "" && c.PaymentsSandbox == "true":
		return false, errors.New("PAYMENTS_SANDBOX=true and STRIPE_SECRET_KEY are both set: unset one (the sandbox, or Stripe)")
	case c.StripeSecretKey != "":
		return false, nil
	case sandbox:
		return true, nil
	}
	return false, errors.New("STRIPE_SECRET_KEY is not set: the Stripe secret key; set PAYMENTS_SANDBOX=true instead to run the payments sandbox on purpose (test cards, nobody is charged)")
}

// Brand is the product name and support contact customers see, checked
// (an error names the setting at fault).
func (c *Config) Brand() (licensing.Brand, error) {
	b := licensing.Brand{Name: c.BrandName, SupportEmail: c.SupportEmail, SupportURL: c.SupportURL}.OrDefault()
	if err := licensing.CheckBrand(b); err != nil {
		return licensing.Brand{}, errors.New(licensing.ErrorMessage(err))
	}
	return b, nil
}

// Invoicing is who issues the invoices and the taxes they carry, checked
// (an error names the setting at fault). Without VENDOR_LEGAL_NAME the
// brand's name stands in, so dev's invoices are never blank.
func (c *Config) Invoicing() (licensing.Vendor, licensing.TaxRules, error) {
	v := licensing.Vendor{LegalName: c.VendorLegalName, Address: licensing.ParseVendorAddress(c.VendorAddress), TaxID: c.VendorTaxID}
	if v.LegalName == "" {
		v.LegalName = licensing.Brand{Name: c.BrandName}.OrDefault().Name
	}
	if err := licensing.CheckText("VENDOR_LEGAL_NAME", v.LegalName, 200, false); err != nil {
		return licensing.Vendor{}, nil, errors.New(licensing.ErrorMessage(err))
	}
	for _, l := range v.Address {
		if err := licensing.CheckText("VENDOR_ADDRESS", l, 200, false); err != nil {
			return licensing.Vendor{}, nil, errors.New(licensing.ErrorMessage(err))
		}
	}
	if err := licensing.CheckText("VENDOR_TAX_ID", v.TaxID, 40, false); err != nil {
		return licensing.Vendor{}, nil, errors.New(licensing.ErrorMessage(err))
	}
	taxes, err := licensing.ParseTaxRules(c.InvoiceTaxes)
	if err != nil {
		return licensing.Vendor{}, nil, fmt.Errorf("INVOICE_TAXES: %w", err)
	}
	return v, taxes, nil
}

// Help lists every variable with its meaning and default, for --help.
func Help() string {
	var c Config
	var b strings.Builder
	for _, v := range c.vars() {
		fmt.Fprintf(&b, "  %-22s %s", v.name, v.help)
		if v.def != "" {
			fmt.Fprintf(&b, " (default %s)", v.def)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Logger builds the process logger from LOG_LEVEL and LOG_FORMAT.
func (c *Config) Logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("LOG_FORMAT %q: want json or text", c.LogFormat)
}

// placeholders are pieces of the example values deploy/ ships; a secret
// still holding one is as good as none (anyone who read the example knows it).
var placeholders = []string{"replace-with", "replace_me", "replace-me", "change-me", "change_me", "changeme"}

// minSecret is the shortest token or signing secret accepted outside dev:
// Slack's signing secrets are 32 characters, `openssl rand -hex 32` 64.
const minSecret = 32

// CheckSafe refuses settings that are unsafe outside dev: a secret that
// still holds an example placeholder, a token or signing secret shorter
// than 32 characters, and * in a Slack allow-list unless
// SLACK_ALLOW_EVERYONE=true says it is meant.
func (c *Config) CheckSafe() error {
	for _, s := range []struct {
		name, value string
		min         int
	}{
		{"SLACK_SIGNING_SECRET", c.SlackSigningSecret, minSecret},
		{"STRIPE_WEBHOOK_SECRET", c.StripeWebhookSecret, minSecret},
		{"ADMIN_API_TOKEN", c.AdminAPIToken, minSecret},
		{"TEMPORAL_CODEC_AUTH_TOKEN", c.TemporalCodecToken, minSecret},
		{"STRIPE_SECRET_KEY", c.StripeSecretKey, 0},
		{"SLACK_BOT_TOKEN", c.SlackBotToken, 0},
		{"SLACK_APP_TOKEN", c.SlackAppToken, 0},
		{"DATABASE_URL", c.DatabaseURL, 0},
		{"SMTP_URL", c.SMTPURL, 0},
		{"TEMPORAL_CODEC_KEYS", c.TemporalCodecKeys, 0},
	} {
		if s.value == "" {
			continue
		}
		lower := strings.ToLower(s.value)
		for _, p := range placeholders {
			if strings.Contains(lower, p) {
				return fmt.Errorf("%s still holds the example's placeholder (%q): set the real value", s.name, p)
			}
		}
		if len(s.value) < s.min {
			return fmt.Errorf("%s is %d characters: use at least %d (e.g. openssl rand -hex 32)", s.name, len(s.value), s.min)
		}
	}
	switch c.SlackAllowEveryone {
	case "", "false", "true":
	default:
		return fmt.Errorf("SLACK_ALLOW_EVERYONE is %q: want true or false", c.SlackAllowEveryone)
	}
	for _, l := range []struct{ name, value, what string }{
		{"SLACK_ALLOW_READ", c.SlackAllowRead, "find, history and show (every customer's contacts, billing state and card brand)"},
		{"SLACK_ALLOW_ACT", c.SlackAllowAct, "every subcommand"},
	} {
		if allowsEveryone(l.value) && c.SlackAllowEveryone != "true" {
			return fmt.Errorf("%s is *: every member of every workspace the app is in, guests included, could run %s; list user or group IDs, or set SLACK_ALLOW_EVERYONE=true on purpose", l.name, l.what)
		}
	}
	return nil
}

func allowsEveryone(list string) bool {
	for _, p := range strings.Split(list, ",") {
		if strings.TrimSpace(p) == "*" {
			return true
		}
	}
	return false
}

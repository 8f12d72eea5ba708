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
	TemporalUIURL       string // TEMPORAL_UI_URL, for links to workflows
	PublicBaseURL       string // PUBLIC_BASE_URL
	HTTPAddr            string // HTTP_ADDR, default 127.0.0.1:8080
	SlackSigningSecret  string // SLACK_SIGNING_SECRET
	SlackBotToken       string // SLACK_BOT_TOKEN
	SlackAppToken       string // SLACK_APP_TOKEN
	SlackAPIURL         string // SLACK_API_URL, default Slack's own
	SlackChannel        string // SLACK_CHANNEL
	SlackAllowRead      string // SLACK_ALLOW_READ
	SlackAllowAct       string // SLACK_ALLOW_ACT
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
		{"TEMPORAL_UI_URL", &c.TemporalUIURL, "", "base URL of the Temporal UI, for links to workflows"},
		{"PUBLIC_BASE_URL", &c.PublicBaseURL, "", "the URL customers reach this server at; emailed links are built from it"},
		{"HTTP_ADDR", &c.HTTPAddr, "127.0.0.1:8080", "address the HTTP server listens on"},
		{"SLACK_SIGNING_SECRET", &c.SlackSigningSecret, "", "the Slack app's signing secret"},
		{"SLACK_BOT_TOKEN", &c.SlackBotToken, "", "the Slack bot token (xoxb-...)"},
		{"SLACK_APP_TOKEN", &c.SlackAppToken, "", "Slack app-level token (xapp-...) for Socket Mode"},
		{"SLACK_API_URL", &c.SlackAPIURL, "", "Slack Web API base URL (tests point it at a local server)"},
		{"SLACK_CHANNEL", &c.SlackChannel, "", "channel ID where alerts go"},
		{"SLACK_ALLOW_READ", &c.SlackAllowRead, "", "Slack user/group IDs allowed to run help, show, status (* = all)"},
		{"SLACK_ALLOW_ACT", &c.SlackAllowAct, "", "Slack user/group IDs allowed to run every subcommand (* = all)"},
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

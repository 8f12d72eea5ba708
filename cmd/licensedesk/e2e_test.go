package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"licensedesk/bot"
	"licensedesk/devstack"
	"licensedesk/internal/clock"
)

// syncBuffer is a bytes.Buffer safe to write from run's goroutines while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stack is a running `licensedesk dev`, started through run() exactly as
// the README's first command starts it.
type stack struct {
	// clock is the services' clock: the wall clock, whatever
	// LICENSEDESK_TEST_NOW says, because a real Temporal server keeps its
	// own and cannot be moved; a system whose timers and dunning dates run on
	// today while its data sits on another day is in a state production
	// never sees. Every date these tests expect is derived from it, so they
	// pass on any day.
	clock        clock.Clock
	env          map[string]string
	dir          string
	state        devState
	temporalPort int
	uiPort       int

	cancel         context.CancelFunc
	exit           chan int
	stdout, stderr *syncBuffer
	exited         bool
}

func startDev(t *testing.T) *stack { return startDevWith(t, nil) }

// startDevWith starts dev with extra environment (e.g. DATABASE_URL).
func startDevWith(t *testing.T, env map[string]string) *stack {
	t.Helper()
	if testing.Short() {
		t.Skip("starts PostgreSQL and a Temporal dev server")
	}
	dir := t.TempDir()
	// t.TempDir is private (0700); as root, PostgreSQL runs as the postgres
	// user, who must be able to reach the data dir.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tport, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	uiport, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{clock: clock.Real, env: map[string]string{"LOG_LEVEL": "warn"}, dir: dir, temporalPort: tport, uiPort: uiport}
	if os.Getenv("RECORD_HISTORIES") != "" {
		s.env["TEMPORAL_CODEC_KEYS"] = recordingCodecKeys(t)
	}
	for k, v := range env {
		s.env[k] = v
	}
	t.Cleanup(func() {
		s.stop(t)
		assertNoProcessUses(t, dir)
	})
	s.start(t)
	return s
}

// start runs dev on the stack's data dir and waits for its ready banner.
func (s *stack) start(t *testing.T) {
	t.Helper()
	getenv := func(k string) string { return s.env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.exit, s.exited = cancel, make(chan int, 1), false
	s.stdout, s.stderr = &syncBuffer{}, &syncBuffer{}
	go func() {
		s.exit <- runAt(ctx, s.clock, []string{"dev", "--data-dir", s.dir, "--http", "127.0.0.1:0",
			"--temporal-port", strconv.Itoa(s.temporalPort), "--ui-port", strconv.Itoa(s.uiPort)}, getenv, s.stdout, s.stderr)
	}()
	// The first run may build the pinned Temporal CLI, which takes minutes.
	deadline := time.Now().Add(10 * time.Minute)
	for !strings.Contains(s.stdout.String(), "licensedesk is ready") {
		select {
		case code := <-s.exit:
			s.exited = true
			t.Fatalf("dev exited %d before it was ready:\n%s\n%s", code, s.stdout.String(), s.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev not ready after 10 minutes:\n%s", s.stderr.String())
		}
	}
	b, err := os.ReadFile(filepath.Join(s.dir, devStateFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s.state); err != nil {
		t.Fatal(err)
	}
}

// stop is Ctrl-C: it cancels dev and waits for a clean exit.
func (s *stack) stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil || s.exited {
		return
	}
	if t.Failed() {
		t.Logf("licensedesk dev log:\n%s", s.stderr.String())
	}
	s.cancel()
	select {
	case code := <-s.exit:
		s.exited = true
		if code != 0 {
			t.Errorf("dev exited %d after Ctrl-C:\n%s", code, s.stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Error("dev did not stop within 60 s of cancellation")
	}
}

// assertNoProcessUses fails if any process still mentions dir on its
// command line (PostgreSQL -D dir, Temporal --db-filename dir/...).
func assertNoProcessUses(t *testing.T, dir string) {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(dir)) {
			t.Errorf("process %s still running: %s", filepath.Base(filepath.Dir(p)), bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
}

// command posts a slash command signed with secret and returns the status
// and body.
func (s *stack) command(t *testing.T, secret, text string, at time.Time) (int, []byte) {
	t.Helper()
	body := []byte(url.Values{"command": {"/license"}, "text": {text}, "user_id": {"U0TEST"},
		"channel_id": {"C0TEST"}, "response_url": {s.state.HTTPURL + "/dev/slack/response"}}.Encode())
	req, _ := http.NewRequest(http.MethodPost, s.state.HTTPURL+"/slack/commands", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		ts, sig := bot.Sign([]byte(secret), at, body)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sig)
	}
	return do(t, req)
}

func (s *stack) get(t *testing.T, path, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.state.HTTPURL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestDev_LicenseShowEndToEnd(t *testing.T) {
	s := startDev(t)
	secret := s.state.SlackSigningSecret

	t.Run("show answers with contacts and roles", func(t *testing.T) {
		code, body := s.command(t, secret, "show SEN-1000001", time.Now())
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
		var reply bot.Reply
		if err := json.Unmarshal(body, &reply); err != nil {
			t.Fatal(err)
		}
		text := bot.PlainText(reply)
		for _, want := range []string{"SEN-1000001 · Jira Software", "Billing contacts: alice@acme.test (primary)",
			"Technical contacts: alice@acme.test (primary), bob@acme.test (secondary)", "Site admins: carol@acme.test",
			"visa •••• 4242", "Status: Active", "Cycle: Monthly"} {
			if !strings.Contains(text, want) {
				t.Errorf("reply lacks %q:\n%s", want, text)
			}
		}
		if reply.ResponseType != "ephemeral" {
			t.Errorf("response_type = %q; customer data must stay ephemeral", reply.ResponseType)
		}
	})

	t.Run("bad input gets an ephemeral usage error", func(t *testing.T) {
		for text, want := range map[string]string{
			"show SEN-12":        `"SEN-12" is not a SEN`,
			"show SEN-9999999":   "No licence SEN-9999999 found.",
			"show":               "needs more arguments",
			"frobnicate":         "I don't know /license frobnicate",
			"show SEN-1 extra x": "more arguments than it takes",
		} {
			code, body := s.command(t, secret, text, time.Now())
			var reply bot.Reply
			_ = json.Unmarshal(body, &reply)
			if code != http.StatusOK || reply.ResponseType != "ephemeral" || !strings.Contains(bot.PlainText(reply), want) {
				t.Errorf("%q → %d %s; want ephemeral %q", text, code, body, want)
			}
		}
	})

	t.Run("unsigned, wrongly signed and stale requests get 401", func(t *testing.T) {
		for name, c := range map[string]struct {
			secret string
			at     time.Time
		}{
			"unsigned":     {"", time.Now()},
			"wrong secret": {"not-the-secret", time.Now()},
			"stale":        {secret, time.Now().Add(-6 * time.Minute)},
		} {
			if code, body := s.command(t, c.secret, "show SEN-1000001", c.at); code != http.StatusUnauthorized {
				t.Errorf("%s: status %d %s; want 401", name, code, body)
			}
		}
	})

	t.Run("the API returns the licence as JSON", func(t *testing.T) {
		code, body := s.get(t, "/api/v1/licenses/sen-1000001", s.state.AdminAPIToken)
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
		var got map[string]any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := "[billing_cycle contacts deployment next_billing_date payment_method product sen site site_admins status]"; fmt.Sprint(keys) != want {
			t.Errorf("keys = %v; want %s", keys, want)
		}
		if got["sen"] != "SEN-1000001" || got["billing_cycle"] != "monthly" || fmt.Sprint(got["site_admins"]) != "[carol@acme.test]" {
			t.Errorf("licence = %s", body)
		}
		contacts := fmt.Sprint(got["contacts"])
		if !strings.Contains(contacts, "map[account_status:active email:bob@acme.test primary:false role:technical]") {
			t.Errorf("contacts = %s", contacts)
		}
		if code, body := s.get(t, "/api/v1/licenses/SEN-2000001", s.state.AdminAPIToken); code != 200 || !strings.Contains(string(body), `"payment_method":null`) || !strings.Contains(string(body), `"billing_cycle":null`) {
			t.Errorf("server licence: %d %s", code, body)
		}
		if code, body := s.get(t, "/api/v1/licenses/SEN-9999999", s.state.AdminAPIToken); code != 404 || !strings.Contains(string(body), `"error"`) {
			t.Errorf("unknown licence: %d %s; want 404 with an error", code, body)
		}
		if code, _ := s.get(t, "/api/v1/licenses/SEN-12", s.state.AdminAPIToken); code != 400 {
			t.Errorf("malformed SEN: %d; want 400", code)
		}
		for _, token := range []string{"", "wrong"} {
			if code, _ := s.get(t, "/api/v1/licenses/SEN-1000001", token); code != 401 {
				t.Errorf("token %q: %d; want 401", token, code)
			}
		}
	})

	t.Run("health, readiness and metrics", func(t *testing.T) {
		if code, body := s.get(t, "/readyz", ""); code != 200 || !strings.Contains(string(body), `"temporal":"ok"`) || !strings.Contains(string(body), `"database":"ok"`) {
			t.Errorf("readyz: %d %s", code, body)
		}
		if code, _ := s.get(t, "/healthz", ""); code != 200 {
			t.Errorf("healthz: %d", code)
		}
		wants := []string{"licensedesk_http_request_duration_seconds", "temporal_", "go_goroutines",
			"licensedesk_invoices_past_due 1", "licensedesk_licences_past_due 1", "licensedesk_licences_suspended 0",
			`licensedesk_operations_started{`, `kind="billing"`}
		var metrics []byte
		missing := wants
		// The billing sweep dev starts may still be on its way.
		for deadline := time.Now().Add(20 * time.Second); len(missing) > 0 && time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
			_, metrics = s.get(t, "/metrics", "")
			missing = slices.DeleteFunc(slices.Clone(wants), func(w string) bool { return strings.Contains(string(metrics), w) })
		}
		for _, want := range missing {
			t.Errorf("metrics lack %s", want)
		}
		if strings.Contains(string(metrics), "temporal_temporal_") {
			t.Error("the Temporal SDK's metrics carry a doubled prefix")
		}
	})

	t.Run("licensedesk slack prints the reply as text", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"slack", "--data-dir", s.dir, "/license show SEN-1000001"},
			func(string) string { return "" }, &out, &errOut)
		if code != 0 || !strings.Contains(out.String(), "bob@acme.test (secondary)") {
			t.Errorf("exit %d\n%s\n%s", code, out.String(), errOut.String())
		}
	})

	t.Run("round trip of /license show against /healthz", func(t *testing.T) {
		const n = 200
		show := measure(n, func() {
			if code, _ := s.command(t, secret, "show SEN-1000001", time.Now()); code != 200 {
				t.Fatalf("status %d", code)
			}
		})
		health := measure(n, func() { s.get(t, "/healthz", "") })
		t.Logf("/license show round trip over %d signed requests: p50 %v p99 %v (baseline GET /healthz: p50 %v p99 %v)",
			n, show.p(50), show.p(99), health.p(50), health.p(99))
	})

	t.Run("licensedesk slack asks before a destructive command and presses Confirm with --yes", func(t *testing.T) {
		slack := func(args ...string) string {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), append([]string{"slack", "--data-dir", s.dir}, args...), func(string) string { return "" }, &out, &errOut); code != 0 {
				t.Fatalf("%v: exit %d\n%s", args, code, errOut.String())
			}
			return out.String()
		}
		const remove = "/license contact remove SEN-1000001 technical bob@acme.test"
		if out := slack(remove); !strings.Contains(out, "--yes") {
			t.Errorf("without --yes:\n%s", out)
		}
		if got := contactsOf(s.license(t, "SEN-1000001")); !strings.Contains(got, "bob@acme.test") {
			t.Fatalf("bob was removed without a confirmation: %s", got)
		}
		if out := slack("--yes", remove); !strings.Contains(out, "[Remove bob@acme.test pressed]") || !strings.Contains(out, "contact-remove/SEN-1000001/technical/bob@acme.test") {
			t.Errorf("with --yes:\n%s", out)
		}
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if !strings.Contains(contactsOf(s.license(t, "SEN-1000001")), "bob@acme.test") {
				return
			}
		}
		t.Error("bob is still a contact after the confirmed removal")
	})
}

type durations []time.Duration

func measure(n int, f func()) durations {
	d := make(durations, n)
	for i := range d {
		start := time.Now()
		f()
		d[i] = time.Since(start)
	}
	slices.Sort(d)
	return d
}

// p returns the q-th percentile (nearest rank).
func (d durations) p(q int) time.Duration {
	i := (len(d)*q+99)/100 - 1
	return d[max(i, 0)].Round(10 * time.Microsecond)
}

// secret32 is long enough for every token and signing secret outside dev.
const secret32 = "0123456789abcdef0123456789abcdef"

func TestRun_MissingSettingStopsWithOneLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"serve"}, nil, "DATABASE_URL is not set"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x"}, "TEMPORAL_ADDRESS is not set"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x", "TEMPORAL_ADDRESS": "x:7233", "PUBLIC_BASE_URL": "http://x"}, "SLACK_SIGNING_SECRET is not set"},
		{[]string{"worker"}, map[string]string{"DATABASE_URL": "postgres://x", "TEMPORAL_ADDRESS": "x:7233"}, "PUBLIC_BASE_URL is not set"},
		{[]string{"migrate"}, nil, "DATABASE_URL is not set"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x", "TEMPORAL_ADDRESS": "x:7233", "PUBLIC_BASE_URL": "http://x",
			"SLACK_SIGNING_SECRET": secret32, "STRIPE_WEBHOOK_SECRET": "whsec_" + secret32, "STRIPE_SECRET_KEY": "sk_test_x", "HTTP_ADDR": "127.0.0.1:0", "ADMIN_API_TOKEN": secret32, "BILLING_RETRY_DAYS": "3,1"}, "BILLING_RETRY_DAYS: days must increase"},
		// No payment provider chosen: Stripe without its key, and the sandbox only on purpose.
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x", "TEMPORAL_ADDRESS": "x:7233", "PUBLIC_BASE_URL": "http://x",
			"SLACK_SIGNING_SECRET": secret32, "STRIPE_WEBHOOK_SECRET": "whsec_" + secret32, "ADMIN_API_TOKEN": secret32}, "STRIPE_SECRET_KEY is not set"},
		{[]string{"worker"}, map[string]string{"DATABASE_URL": "postgres://x", "TEMPORAL_ADDRESS": "x:7233", "PUBLIC_BASE_URL": "http://x",
			"SMTP_URL": "smtp://mail.x", "STRIPE_WEBHOOK_SECRET": "whsec_" + secret32}, "STRIPE_SECRET_KEY is not set"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x", "TEMPORAL_ADDRESS": "x:7233", "PUBLIC_BASE_URL": "http://x",
			"SLACK_SIGNING_SECRET": secret32, "STRIPE_WEBHOOK_SECRET": "whsec_" + secret32, "ADMIN_API_TOKEN": secret32, "PAYMENTS_SANDBOX": "yes"}, `PAYMENTS_SANDBOX is "yes"`},
		// Unsafe outside dev: example placeholders, short secrets, * for everyone.
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x", "TEMPORAL_ADDRESS": "x:7233", "PUBLIC_BASE_URL": "http://x",
			"SLACK_SIGNING_SECRET": "replace-with-slack-signing-secret", "STRIPE_WEBHOOK_SECRET": "whsec_" + secret32}, "SLACK_SIGNING_SECRET still holds the example's placeholder"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x", "TEMPORAL_ADDRESS": "x:7233", "PUBLIC_BASE_URL": "http://x",
			"SLACK_SIGNING_SECRET": secret32, "STRIPE_WEBHOOK_SECRET": "whsec_" + secret32, "ADMIN_API_TOKEN": "t"}, "ADMIN_API_TOKEN is 1 characters: use at least 32"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x", "TEMPORAL_ADDRESS": "x:7233", "PUBLIC_BASE_URL": "http://x",
			"SLACK_SIGNING_SECRET": secret32, "STRIPE_WEBHOOK_SECRET": "whsec_" + secret32, "SLACK_ALLOW_READ": "*"}, "SLACK_ALLOW_READ is *"},
		{[]string{"worker"}, map[string]string{"DATABASE_URL": "postgres://x", "TEMPORAL_ADDRESS": "x:7233", "PUBLIC_BASE_URL": "http://x",
			"SMTP_URL": "smtp://mail.x", "STRIPE_WEBHOOK_SECRET": "whsec_" + secret32, "STRIPE_SECRET_KEY": "sk_test_x", "TEMPORAL_CODEC_KEYS": "k1:short"}, "TEMPORAL_CODEC_KEYS: key \"k1\""},
		{[]string{"dev", "--data-dir", "/nonexistent"}, map[string]string{"PAYMENTS_SANDBOX": "false"}, "STRIPE_SECRET_KEY is not set"},
		{[]string{"slack", "--data-dir", "/nonexistent", "show SEN-1000001"}, nil, "SLACK_SIGNING_SECRET is not set"},
		{[]string{"dev", "--bogus"}, nil, "flag provided but not defined: -bogus"},
		{[]string{"frobnicate"}, nil, `unknown subcommand "frobnicate"`},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, &out, &errOut)
		lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, code, errOut.String(), tc.want)
		}
	}
}

// TestRun_PaymentsSandboxOnPurposeWarnsAtStart: with PAYMENTS_SANDBOX=true,
// serve and worker start (here they then fail to reach the database) and
// say first that nobody is charged.
func TestRun_PaymentsSandboxOnPurposeWarnsAtStart(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1:1/x?connect_timeout=5", "TEMPORAL_ADDRESS": "127.0.0.1:1",
		"PUBLIC_BASE_URL": "http://x", "SLACK_SIGNING_SECRET": secret32, "STRIPE_WEBHOOK_SECRET": "whsec_" + secret32, "ADMIN_API_TOKEN": secret32,
		"SMTP_URL": "smtp://127.0.0.1:1", "HTTP_ADDR": "127.0.0.1:0", "PAYMENTS_SANDBOX": "true"}
	for _, sub := range []string{"serve", "worker"} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{sub}, func(k string) string { return env[k] }, &out, &errOut)
		first, _, _ := strings.Cut(errOut.String(), "\n")
		if code != 1 || !strings.Contains(first, `"level":"WARN"`) || !strings.Contains(first, "PAYMENTS_SANDBOX=true") || !strings.Contains(first, "nobody is charged") {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit 1 after a first line that warns about the sandbox", sub, code, errOut.String())
		}
		if !strings.Contains(errOut.String(), "connect to PostgreSQL") {
			t.Errorf("%s: did not go on to connect:\n%s", sub, errOut.String())
		}
	}
}

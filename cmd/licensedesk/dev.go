package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"licensedesk/config"
	"licensedesk/devstack"
	"licensedesk/internal/bookgen"
	"licensedesk/internal/clock"
	"licensedesk/payloadcodec"
	"licensedesk/postgres"
	"licensedesk/web"
	"licensedesk/worker"
	"licensedesk/workflows"
)

// devState is what dev keeps in the data dir between runs, so secrets stay
// stable and `licensedesk slack` can find the running server.
type devState struct {
	HTTPURL             string `json:"http_url"`
	SlackSigningSecret  string `json:"slack_signing_secret"`
	AdminAPIToken       string `json:"admin_api_token"`
	StripeWebhookSecret string `json:"stripe_webhook_secret"`
	// TemporalCodecKeys encrypt dev's workflow payloads, as production's
	// TEMPORAL_CODEC_KEYS do (which, when set, win).
	TemporalCodecKeys string `json:"temporal_codec_keys"`
}

const devStateFile = "dev.json"

type devFlags struct {
	dataDir      string
	httpAddr     string
	temporalPort int
	uiPort       int
	fresh        bool
	demoScale    int
}

// defaultDataDir is where dev keeps its state, and where `licensedesk
// slack` looks for it, unless told otherwise.
const defaultDataDir = "./.licensedesk"

func devFlagSet(f *devFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.StringVar(&f.dataDir, "data-dir", defaultDataDir, "keep PostgreSQL, Temporal, dev secrets and logs in `DIR`")
	fs.StringVar(&f.httpAddr, "http", "127.0.0.1:8080", "HTTP listen `ADDR`; HTTP_ADDR wins")
	fs.IntVar(&f.temporalPort, "temporal-port", 7233, "Temporal gRPC `PORT`")
	fs.IntVar(&f.uiPort, "ui-port", 8233, "Temporal web UI `PORT`")
	fs.BoolVar(&f.fresh, "fresh", false, "wipe the data dir first")
	fs.IntVar(&f.demoScale, "demo-scale", 0, "with a fresh database, also import a generated book of `N` licences (licensedesk gen's)")
	return fs
}

// parseDevFlags parses dev's flags; help says -h printed the help instead.
func parseDevFlags(args []string, stdout io.Writer) (f devFlags, help bool, err error) {
	fs := devFlagSet(&f)
	if help, err = parseFlags(fs, args, stdout); help || err != nil {
		return f, help, err
	}
	if fs.NArg() > 0 {
		return f, false, usageErrorf("unexpected argument %q (see licensedesk dev -h)", fs.Arg(0))
	}
	return f, false, nil
}

// runDev runs the whole system on one machine: a private PostgreSQL (unless
// DATABASE_URL), a Temporal dev server with its UI (unless TEMPORAL_ADDRESS),
// the worker and the HTTP server, with mail and Slack kept for /dev pages.
func runDev(ctx context.Context, now clock.Clock, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	started := time.Now() //clock:wall measures start-up
	f, help, err := parseDevFlags(args, stdout)
	if help || err != nil {
		return err
	}
	cfg := config.Load(getenv)
	if getenv("LOG_FORMAT") == "" {
		cfg.LogFormat = "text"
	}
	logger, err := cfg.Logger(stderr)
	if err != nil {
		return usageError{err.Error()}
	}
	if err := checkPayments(cfg, true, logger); err != nil {
		return err
	}
	dataDir, err := prepareDataDir(f.dataDir, f.fresh)
	if err != nil {
		return err
	}
	state, err := loadDevState(dataDir)
	if err != nil {
		return err
	}
	logs, err := openDevLogs(dataDir)
	if err != nil {
		return err
	}
	defer logs.close()

	// The HTTP listener is bound first: the Temporal UI is told where the
	// codec server is before it starts.
	if getenv("HTTP_ADDR") == "" {
		cfg.HTTPAddr = f.httpAddr
	}
	ln, err := listen(cfg.HTTPAddr)
	if err != nil {
		return err
	}
	defer ln.Close()
	appURL := "http://" + ln.Addr().String()
	if cfg.TemporalCodecKeys == "" {
		cfg.TemporalCodecKeys = state.TemporalCodecKeys
	}
	codecURL := appURL + payloadcodec.Path

	// PostgreSQL and Temporal start side by side; each falls back to the
	// configured server when its variable is set.
	var (
		pg  *devstack.Postgres
		tmp *devstack.Temporal
	)
	defer func() {
		stopCtx := context.WithoutCancel(ctx)
		if tmp != nil {
			_ = tmp.Stop(stopCtx)
		}
		if pg != nil {
			_ = pg.Stop(stopCtx)
		}
	}()
	g, gctx := errgroup.WithContext(ctx)
	if cfg.DatabaseURL == "" {
		g.Go(func() error {
			if _, err := devstack.FindPostgres(); err != nil {
				return usageError{err.Error()}
			}
			p, err := devstack.StartPostgres(gctx, devstack.PostgresOptions{Dir: filepath.Join(dataDir, "postgres"), Log: logs.postgres})
			if err != nil {
				return err
			}
			pg = p
			if err := p.CreateDatabase(gctx, "licensedesk"); err != nil {
				return err
			}
			cfg.DatabaseURL = p.URL("licensedesk")
			return nil
		})
	}
	if cfg.TemporalAddress == "" {
		g.Go(func() error {
			bin, err := devstack.FindTemporal(gctx)
			if err != nil {
				return usageError{err.Error()}
			}
			t, err := devstack.StartTemporal(gctx, devstack.TemporalOptions{
				Binary: bin, DBFile: filepath.Join(dataDir, "temporal.db"),
				Port: f.temporalPort, UIPort: f.uiPort, Namespace: cfg.TemporalNamespace, UICodecEndpoint: codecURL,
				SearchAttributes: workflows.SearchAttributeDefinitions, Log: logs.temporal,
			})
			if err != nil {
				return err
			}
			tmp = t
			cfg.TemporalAddress = t.Address()
			if cfg.TemporalUIURL == "" {
				cfg.TemporalUIURL = t.UIURL()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if cfg.TemporalUIURL == "" {
		cfg.TemporalUIURL = "http://127.0.0.1:" + strconv.Itoa(f.uiPort)
	}
	if _, _, err := postgres.Migrate(ctx, cfg.DatabaseURL); err != nil {
		return err
	}

	// Settings dev provides when the environment does not.
	if cfg.SlackSigningSecret == "" {
		cfg.SlackSigningSecret = state.SlackSigningSecret
	}
	if cfg.AdminAPIToken == "" {
		cfg.AdminAPIToken = state.AdminAPIToken
	}
	if cfg.StripeWebhookSecret == "" {
		cfg.StripeWebhookSecret = state.StripeWebhookSecret
	}
	if cfg.SlackChannel == "" {
		cfg.SlackChannel = "C0BILLING" // dev keeps alerts at /dev/slack under this id
	}
	if getenv("SLACK_ALLOW_READ") == "" {
		cfg.SlackAllowRead = "*"
	}
	if getenv("SLACK_ALLOW_ACT") == "" {
		cfg.SlackAllowAct = "*"
	}
	if cfg.PublicBaseURL == "" {
		cfg.PublicBaseURL = appURL
	}

	svc, err := openServices(ctx, cfg, true, logger, now)
	if err != nil {
		return err
	}
	defer svc.close()
	// dev's codec server needs no token while only this machine can reach
	// it, like dev's Temporal itself.
	svc.codecHandler = svc.codecServer(isLoopback(ln.Addr()))
	if svc.codecHandler == nil {
		codecURL = ""
	}
	seeded, err := svc.db.SeedDemoFor(ctx, now.Now(), svc.sandbox != nil)
	if err != nil {
		return fmt.Errorf("load demo data: %w", err)
	}
	if err := svc.ensureBilling(ctx); err != nil {
		return fmt.Errorf("start billing: %w", err)
	}
	if err := svc.startSlack(ctx); err != nil {
		return err
	}
	if f.demoScale > 0 && seeded {
		if err := importBook(ctx, svc.db, bookgen.Options{Licenses: f.demoScale, Seed: 1, Start: bookgen.FirstOfNextMonth(now.Now())}, logger); err != nil {
			return fmt.Errorf("load the demo book: %w", err)
		}
	}

	run, runCtx := errgroup.WithContext(ctx)
	run.Go(func() error {
		return serveHTTP(runCtx, ln, svc.handler(web.Dev(svc.db, logger, web.WithBrand(svc.brand))), logger)
	})
	run.Go(func() error { svc.pruneAuthState(runCtx); return nil })
	run.Go(func() error { svc.listenWebhooks(runCtx); return nil })
	w := worker.New(svc.temporal, cfg.TemporalTaskQueue, svc.activities())
	if err := w.Start(); err != nil {
		return err
	}
	run.Go(func() error {
		<-runCtx.Done()
		w.Stop()
		return nil
	})
	state.HTTPURL = appURL
	if err := saveDevState(dataDir, state); err != nil {
		return err
	}
	fmt.Fprint(stdout, banner(readyInfo{cfg: cfg, appURL: appURL, codecURL: codecURL, dataDir: dataDir, seeded: seeded,
		sandbox: svc.sandbox != nil, took: time.Since(started)})) //clock:wall measures start-up
	err = run.Wait()
	logger.Info("licensedesk dev stopped")
	return err
}

// readyInfo is what the ready banner reports.
type readyInfo struct {
	cfg      config.Config // as dev completed it
	appURL   string
	codecURL string // "" without a codec server
	dataDir  string // absolute
	seeded   bool   // demo data was loaded now
	sandbox  bool   // the payments sandbox stands in for Stripe
	took     time.Duration
}

// banner is what dev prints once ready: where everything is, each line
// true of this run (kept mail and Slack only when they are kept), and a
// command to try that works as printed.
func banner(r readyInfo) string {
	var b strings.Builder
	data := "kept from the last run"
	if r.seeded {
		data = "demo data loaded"
	}
	fmt.Fprintf(&b, "\nlicensedesk is ready (%.1fs; data in %s, %s)\n\n", r.took.Seconds(), r.dataDir, data)
	line := func(name, format string, args ...any) {
		fmt.Fprintf(&b, "  %-14s %s\n", name, fmt.Sprintf(format, args...))
	}
	line("App", "%s", r.appURL)
	line("Temporal UI", "%s", r.cfg.TemporalUIURL)
	if r.codecURL != "" {
		line("Codec", "%s  (histories encrypted; the UI decodes through it, and: temporal workflow show --codec-endpoint %s -w ID)", r.codecURL, r.codecURL)
	}
	if r.cfg.SMTPURL != "" {
		line("Mail", "sent through SMTP to %s", smtpHost(r.cfg.SMTPURL))
	} else {
		line("Dev mail", "%s/dev/mail", r.appURL)
	}
	if r.cfg.SlackAppToken != "" {
		line("Socket Mode", "Slack reaches the bot through %s (SLACK_APP_TOKEN), HTTP too", socketModeHost(r.cfg.SlackAPIURL))
	}
	if r.cfg.SlackBotToken != "" {
		line("Slack", "posted to Slack with SLACK_BOT_TOKEN (alerts to %s)", r.cfg.SlackChannel)
	} else {
		line("Dev Slack", "%s/dev/slack", r.appURL)
	}
	if r.sandbox {
		line("Payments", "the sandbox: test cards only, nobody is charged")
	} else {
		line("Payments", "Stripe (STRIPE_SECRET_KEY)")
	}
	line("Webhooks", "endpoints may be http:// and on this machine or a private network (dev only; production: public https://)")
	line("Sign in", `%s/signin  (alice@acme.test, password "correct horse battery staple")`, r.appURL)
	line("API", "curl -H 'Authorization: Bearer %s' %s/api/v1/licenses/SEN-1000001", r.cfg.AdminAPIToken, r.appURL)
	line("Slack secret", "%s", r.cfg.SlackSigningSecret)
	try := "go run ./cmd/licensedesk slack"
	if def, err := filepath.Abs(defaultDataDir); err != nil || def != r.dataDir {
		try += " --data-dir " + shellQuote(r.dataDir)
	}
	fmt.Fprintf(&b, "\nTry:  %s \"/license show SEN-1000001\"\nStop: Ctrl-C (state is kept; --fresh starts clean)\n\n", try)
	return b.String()
}

// socketModeHost says where Socket Mode connects: Slack, or the host of
// SLACK_API_URL.
func socketModeHost(apiURL string) string {
	u, err := url.Parse(apiURL)
	if apiURL == "" || err != nil || u.Host == "" {
		return "Slack"
	}
	return u.Host
}

// smtpHost is SMTP_URL's host and port, without the credentials.
func smtpHost(smtpURL string) string {
	u, err := url.Parse(smtpURL)
	if err != nil || u.Host == "" {
		return "SMTP_URL"
	}
	return u.Host
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// isLoopback says addr is reachable from this machine only.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// prepareDataDir creates the data dir, wiping it first with --fresh. It only
// wipes a directory that looks like a licensedesk data dir, so a mistyped
// --data-dir can never delete someone's files.
func prepareDataDir(dir string, fresh bool) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if fresh {
		entries, err := os.ReadDir(abs)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return "", err
		case len(entries) > 0:
			if _, err := os.Stat(filepath.Join(abs, devStateFile)); err != nil {
				return "", usageErrorf("--fresh: %s does not look like a licensedesk data dir (no %s); not deleting it", abs, devStateFile)
			}
			if err := os.RemoveAll(abs); err != nil {
				return "", err
			}
		}
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", err
	}
	return abs, nil
}

func loadDevState(dir string) (devState, error) {
	var s devState
	b, err := os.ReadFile(filepath.Join(dir, devStateFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return s, err
	default:
		if err := json.Unmarshal(b, &s); err != nil {
			return s, fmt.Errorf("%s: %w", filepath.Join(dir, devStateFile), err)
		}
	}
	if s.SlackSigningSecret == "" {
		s.SlackSigningSecret = randomSecret()
	}
	if s.AdminAPIToken == "" {
		s.AdminAPIToken = randomSecret()
	}
	if s.StripeWebhookSecret == "" {
		s.StripeWebhookSecret = "whsec_" + randomSecret()
	}
	if s.TemporalCodecKeys == "" {
		key, err := payloadcodec.NewKey("dev-1")
		if err != nil {
			return s, err
		}
		s.TemporalCodecKeys = key
	}
	// Written now so that --fresh recognises the directory even if this run
	// stops before it is ready.
	return s, saveDevState(dir, s)
}

func saveDevState(dir string, s devState) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, devStateFile), append(b, '\n'), 0o600)
}

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

type devLogs struct{ postgres, temporal *os.File }

// openDevLogs sends the servers' own logs to files in the data dir, keeping
// the terminal for licensedesk's.
func openDevLogs(dir string) (*devLogs, error) {
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	open := func(name string) (*os.File, error) {
		return os.OpenFile(filepath.Join(dir, "logs", name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	}
	pgLog, err := open("postgres.log")
	if err != nil {
		return nil, err
	}
	tLog, err := open("temporal.log")
	if err != nil {
		pgLog.Close()
		return nil, err
	}
	return &devLogs{postgres: pgLog, temporal: tLog}, nil
}

func (l *devLogs) close() {
	l.postgres.Close()
	l.temporal.Close()
}

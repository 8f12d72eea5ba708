package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/client"

	"licensedesk/accounts"
	"licensedesk/activities"
	"licensedesk/bot"
	"licensedesk/config"
	"licensedesk/licensing"
	"licensedesk/links"
	"licensedesk/mail"
	"licensedesk/payments"
	"licensedesk/payments/sandbox"
	stripeprovider "licensedesk/payments/stripe"
	"licensedesk/postgres"
	"licensedesk/slackout"
	"licensedesk/temporalclient"
	"licensedesk/web"
	"licensedesk/workflows"
)

// services are the long-lived connections every process role shares.
type services struct {
	cfg      config.Config
	dev      bool // keep mail and Slack messages instead of sending them when unconfigured
	logger   *slog.Logger
	db       *postgres.DB
	temporal client.Client
	registry *prometheus.Registry
	closeTC  func()
	slack    slackout.Poster // nil: no Slack reporting
	mail     *mail.Outbox
	ops      *temporalclient.Client
	payments payments.Provider
	sandbox  *sandbox.Sandbox // the payments sandbox, when Stripe is not configured
	accounts *accounts.Service
	metrics  *processMetrics

	slackBot   *slackBot       // the inbound Slack front end, once built
	socket     *bot.SocketMode // nil unless SLACK_APP_TOKEN is set
	stopSocket func()
	brand      licensing.Brand // BRAND_NAME, SUPPORT_EMAIL, SUPPORT_URL
}

func openServices(ctx context.Context, cfg config.Config, dev bool, logger *slog.Logger) (*services, error) {
	policy, err := workflows.ParseRetryPolicy(cfg.BillingRetryDays, cfg.BillingSuspendDays)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	sweepEvery, err := time.ParseDuration(cfg.BillingSweep)
	if err != nil || sweepEvery < 10*time.Second || sweepEvery > 24*time.Hour {
		return nil, usageErrorf("BILLING_SWEEP_INTERVAL: %q is not a duration from 10s to 24h (like 5m)", cfg.BillingSweep)
	}
	brand, err := cfg.Brand()
	if err != nil {
		return nil, usageError{err.Error()}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	tc, closeTC, err := temporalclient.Dial(ctx, temporalclient.DialOptions{
		Address: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace, APIKey: cfg.TemporalAPIKey,
		Logger: logger, Metrics: reg,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	svc := &services{cfg: cfg, dev: dev, logger: logger, db: db, temporal: tc, registry: reg, closeTC: closeTC, brand: brand,
		metrics: newProcessMetrics(reg, db, logger)}
	switch {
	case cfg.SlackBotToken != "":
		api := slackout.NewWebAPI(cfg.SlackBotToken, cfg.SlackAPIURL, nil)
		api.OnError = svc.metrics.slackFailed
		svc.slack = api
	case dev:
		svc.slack = slackout.NewDevSink(db)
	}
	svc.mail = &mail.Outbox{DB: db, OnSend: svc.metrics.mailSent}
	if cfg.SMTPURL != "" {
		smtp, err := mail.NewSMTP(cfg.SMTPURL, cfg.MailFrom)
		if err != nil {
			svc.close()
			return nil, usageError{err.Error()}
		}
		smtp.SignAs(brand.Name)
		svc.mail.SMTP = smtp
	}
	svc.ops = &temporalclient.Client{Temporal: tc, TaskQueue: cfg.TemporalTaskQueue, Namespace: cfg.TemporalNamespace,
		UIURL: cfg.TemporalUIURL, AlertChannel: cfg.SlackChannel, Invoices: db, Policy: policy, SweepEvery: sweepEvery, History: db, Logger: logger}
	useSandbox, err := cfg.UseSandbox(dev)
	if err != nil {
		svc.close()
		return nil, usageError{err.Error()}
	}
	if !useSandbox && cfg.SandboxFaults != "" {
		svc.close()
		return nil, usageErrorf("PAYMENTS_SANDBOX_FAULTS applies to the payments sandbox only, not to Stripe")
	}
	if !useSandbox {
		p, err := stripeprovider.New(stripeprovider.Config{SecretKey: cfg.StripeSecretKey, APIURL: cfg.StripeAPIURL, Logger: logger})
		if err != nil {
			svc.close()
			return nil, usageError{err.Error()}
		}
		svc.payments = p
	} else {
		sb, err := sandbox.New(sandbox.Config{Store: sandbox.NewPGStore(db.Pool()), BaseURL: cfg.PublicBaseURL, WebhookSecret: cfg.StripeWebhookSecret, Logger: logger})
		if err != nil {
			svc.close()
			return nil, err
		}
		svc.payments, svc.sandbox = sb, sb
		if cfg.SandboxFaults != "" {
			f, err := sandbox.ParseFaults(cfg.SandboxFaults)
			if err != nil {
				svc.close()
				return nil, usageError{err.Error()}
			}
			svc.payments = sandbox.WithFaults(sb, f)
			logger.Warn("PAYMENTS_SANDBOX_FAULTS: the payments sandbox fails charges on purpose", "faults", cfg.SandboxFaults)
		}
	}
	svc.accounts, err = accounts.New(db, &temporalclient.Accounts{Client: svc.ops, DB: db}, accounts.Options{Logger: logger, SuspendAfter: policy.SuspendAfter})
	if err != nil {
		svc.close()
		return nil, err
	}
	return svc, nil
}

// pruneAuthState deletes ended sessions and stale throttle state every
// hour until ctx ends (the tables only grow otherwise; nothing depends on
// it). Several servers doing it at once is harmless.
func (s *services) pruneAuthState(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		sessions, throttles, err := s.db.PruneAuthState(ctx, time.Now().Add(-24*time.Hour))
		if err != nil && ctx.Err() == nil {
			s.logger.WarnContext(ctx, "pruning sessions failed", "err", err)
		} else if sessions+throttles > 0 {
			s.logger.InfoContext(ctx, "pruned ended sessions", "sessions", sessions, "throttles", throttles)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ensureBilling makes sure the billing sweep and the daily card-expiry
// run are scheduled.
func (s *services) ensureBilling(ctx context.Context) error {
	if err := s.ops.EnsureBilling(ctx); err != nil {
		return err
	}
	return s.ops.EnsureCardReminders(ctx)
}

func (s *services) close() {
	if s.stopSocket != nil {
		s.stopSocket()
	}
	s.closeTC()
	s.db.Close()
}

func (s *services) readyChecks() []web.Check {
	checks := []web.Check{
		{Name: "database", Ping: s.db.Ping},
		{Name: "temporal", Ping: func(ctx context.Context) error {
			_, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
	}
	if s.socket != nil {
		checks = append(checks, web.Check{Name: "slack_socket", Ping: s.socket.Ready})
	}
	return checks
}

// handler assembles the HTTP surface; dev is nil outside dev mode.
func (s *services) handler(dev http.Handler) http.Handler {
	slackBot := s.inboundSlack()
	accountOptions := []web.AccountOption{web.WithBrand(s.brand)}
	if s.cfg.TrustProxy == "true" {
		accountOptions = append(accountOptions, web.TrustForwardedFor())
	}
	return web.New(web.Deps{
		Logger:        s.logger,
		Licenses:      s.db,
		History:       s.db,
		Provisioning:  s.db,
		Invites:       s.ops,
		AdminAPIToken: s.cfg.AdminAPIToken,
		Ready:         s.readyChecks(),
		Registry:      s.registry,
		SlackCommands: slackBot.verifier.Middleware(bot.CommandsHandler(slackBot.registry, s.logger)),
		SlackActions:  slackBot.verifier.Middleware(bot.InteractionsHandler(slackBot.registry, slackBot.responder, s.logger)),
		Links: &links.Service{DB: s.db, Temporal: s.temporal, Payments: s.payments, PublicBaseURL: s.cfg.PublicBaseURL, Hasher: s.accounts.Hasher(),
			SuspendAfter: s.ops.Policy.SuspendAfter},
		PaymentWebhook: payments.WebhookHandler(s.cfg.StripeWebhookSecret, time.Now, s.ops.HandlePaymentEvent, s.logger),
		Sandbox:        sandboxHandler(s.sandbox),
		Account:        web.Account(s.accounts, s.logger, s.secureCookies(), accountOptions...),
		Sessions:       s.accounts,
		SecureCookies:  s.secureCookies(),
		Brand:          s.brand,
		FormTargets:    s.formTargets(),
		Dev:            dev,
	})
}

// secureCookies: sessions over HTTPS only, when customers reach us by it.
func (s *services) secureCookies() bool { return strings.HasPrefix(s.cfg.PublicBaseURL, "https://") }

// formTargets are the other origins our forms lead to: Stripe Checkout,
// where the update-card button redirects, and Stripe's page for the
// bank's check of a payment (next_action's redirect_to_url); the
// sandbox's pages are ours.
func (s *services) formTargets() []string {
	if s.sandbox != nil {
		return nil
	}
	return []string{"https://checkout.stripe.com", "https://hooks.stripe.com"}
}

func sandboxHandler(sb *sandbox.Sandbox) http.Handler {
	if sb == nil {
		return nil
	}
	return sb.Handler()
}

// finder is the store's find, as /license find pages it.
type finder struct{ db *postgres.DB }

func (f finder) FindLicences(ctx context.Context, q licensing.FindQuery, after licensing.SEN, size int) (bot.FoundPage, error) {
	p, err := f.db.FindLicenses(ctx, q, postgres.PageRequest{After: after, Size: size})
	if err != nil {
		return bot.FoundPage{}, err
	}
	out := bot.FoundPage{Total: p.Total, Next: p.Next}
	for _, l := range p.Licenses {
		out.Licenses = append(out.Licenses, l.License)
	}
	return out, nil
}

func (s *services) activities() *activities.Activities {
	return &activities.Activities{
		DB: s.db, Mail: s.mail, Slack: s.slack, Payments: s.payments, Collections: s.ops, OnProviderError: s.metrics.providerFailed,
		PublicBaseURL: s.cfg.PublicBaseURL, TemporalUIURL: s.cfg.TemporalUIURL, Namespace: s.cfg.TemporalNamespace,
		Brand: s.brand,
		ResetLinks: func(ctx context.Context, email licensing.Email, workflowID, request string) (activities.ResetLink, bool, error) {
			link, ok, err := s.accounts.IssueResetLink(ctx, accounts.ResetRequest{Email: email, Key: request, WorkflowID: workflowID})
			return activities.ResetLink{Path: link.Path, ExpiresAt: link.ExpiresAt, Issue: link.Issue}, ok, err
		},
	}
}

// listen binds addr with an error message that names it.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// serveHTTP serves h on ln until ctx ends, then drains for up to 10 s.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// The services wired into the front ends provide what those define.
var (
	_ web.AccountService  = (*accounts.Service)(nil)
	_ web.LinkService     = (*links.Service)(nil)
	_ bot.Workflows       = (*temporalclient.Client)(nil)
	_ web.Inviter         = (*temporalclient.Client)(nil)
	_ web.Provisioning    = (*postgres.DB)(nil)
	_ accounts.Operations = (*temporalclient.Accounts)(nil)
)

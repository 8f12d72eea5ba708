package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/client"

	"licensedesk/accounts"
	"licensedesk/activities"
	"licensedesk/bot"
	"licensedesk/config"
	"licensedesk/internal/clock"
	"licensedesk/licensing"
	"licensedesk/links"
	"licensedesk/mail"
	"licensedesk/pacing"
	"licensedesk/payloadcodec"
	"licensedesk/payments"
	"licensedesk/payments/sandbox"
	stripeprovider "licensedesk/payments/stripe"
	"licensedesk/postgres"
	"licensedesk/slackout"
	"licensedesk/temporalclient"
	"licensedesk/web"
	"licensedesk/webhooks/sender"
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
	slack    slackout.Poster  // nil: no Slack reporting
	slackAPI *slackout.WebAPI // Slack's Web API, under slack's pacing; nil without a bot token
	pacing   config.Pacing
	mail     *mail.Outbox
	codec    *payloadcodec.Codec // TEMPORAL_CODEC_KEYS; nil: payloads in clear
	ops      *temporalclient.Client
	payments payments.Provider
	sandbox  *sandbox.Sandbox // the payments sandbox, when Stripe is not configured
	accounts *accounts.Service
	metrics  *processMetrics

	webhooks     *sender.Sender // posts webhook deliveries, checks new endpoints
	codecHandler http.Handler   // the codec server, where this process serves one

	slackBot   *slackBot       // the inbound Slack front end, once built
	socket     *bot.SocketMode // nil unless SLACK_APP_TOKEN is set
	stopSocket func()
	brand      licensing.Brand    // BRAND_NAME, SUPPORT_EMAIL, SUPPORT_URL
	vendor     licensing.Vendor   // VENDOR_LEGAL_NAME, VENDOR_ADDRESS, VENDOR_TAX_ID
	taxes      licensing.TaxRules // INVOICE_TAXES
	clock      clock.Clock        // what every decision and rendering by the time reads
}

func openServices(ctx context.Context, cfg config.Config, dev bool, logger *slog.Logger, now clock.Clock) (*services, error) {
	policy, err := licensing.ParseDunningSchedule(cfg.BillingRetryDays, cfg.BillingSuspendDays)
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
	vendor, taxes, err := cfg.Invoicing()
	if err != nil {
		return nil, usageError{err.Error()}
	}
	pace, err := cfg.Pacing()
	if err != nil {
		return nil, usageError{err.Error()}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	dial, err := temporalDialOptions(cfg, logger)
	if err != nil {
		return nil, err
	}
	if dial.Codec == nil && !dev {
		logger.Warn("TEMPORAL_CODEC_KEYS is not set: workflow histories hold customers' emails and names in clear for anyone with Temporal access")
	}
	dial.Metrics = reg
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	db.SetClock(now)
	tc, closeTC, err := temporalclient.Dial(ctx, dial)
	if err != nil {
		db.Close()
		return nil, err
	}
	svc := &services{cfg: cfg, dev: dev, logger: logger, db: db, temporal: tc, registry: reg, closeTC: closeTC, brand: brand, vendor: vendor, taxes: taxes, clock: now,
		codec: dial.Codec, metrics: newProcessMetrics(reg, db, logger), pacing: pace}
	switch cfg.WebhookAllowPrivate {
	case "", "false", "true":
	default:
		svc.close()
		return nil, usageErrorf("WEBHOOK_ALLOW_PRIVATE is %q: want true or false", cfg.WebhookAllowPrivate)
	}
	if cfg.WebhookAllowPrivate == "true" { // dev says so in its banner instead
		logger.Warn("webhooks may reach http:// and private, loopback and link-local addresses (dev or WEBHOOK_ALLOW_PRIVATE=true); in production only https:// to public addresses is safe")
	}
	svc.webhooks = svc.newWebhookSender()
	switch {
	case cfg.SlackBotToken != "":
		// Every post and update keeps to Slack's documented limits, shared
		// by every worker through PostgreSQL; a 429 anyway holds them all.
		api := slackout.NewWebAPI(cfg.SlackBotToken, cfg.SlackAPIURL, nil)
		api.OnError = svc.metrics.slackFailed
		paced := slackout.Paced(api, db, slackout.DocumentedLimits)
		api.OnRateLimited = func(method, channel string, d time.Duration) {
			svc.metrics.slackRateLimited(method)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			paced.Hold(ctx, method, channel, d)
		}
		svc.slack, svc.slackAPI = paced, api
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
		if smtp.Strippable() {
			logger.Warn("SMTP_URL is smtp:// to another host: STARTTLS only when offered, so anyone on the path can strip it and read the mail and its links; use smtp+starttls:// (TLS required) or smtps://")
		}
		svc.mail.SMTP = mail.Paced(smtp, &pacing.Pacer{Store: db, Key: "smtp", Limit: pacing.PerSecond(pace.SMTPRate)})
	}
	svc.ops = &temporalclient.Client{Temporal: tc, TaskQueue: cfg.TemporalTaskQueue, Namespace: cfg.TemporalNamespace,
		UIURL: cfg.TemporalUIURL, AlertChannel: cfg.SlackChannel, Invoices: db, Policy: policy, SweepEvery: sweepEvery, History: db, Logger: logger,
		DataConverter: payloadcodec.DataConverter(dial.Codec)}
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
		sb, err := sandbox.New(sandbox.Config{Store: sandbox.NewPGStore(db.Pool()), BaseURL: cfg.PublicBaseURL, WebhookSecret: cfg.StripeWebhookSecret, Logger: logger,
			Latency: pace.SandboxLatency, RateLimit: pace.SandboxRate, KeyWindow: pace.SandboxKeyWindow})
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
	// Every provider call keeps to PAYMENTS_RATE, shared by every worker.
	svc.payments = payments.Paced(svc.payments, &pacing.Pacer{Store: db, Key: "payments", Limit: pacing.PerSecond(pace.PaymentsRate)},
		svc.metrics.providerRateLimited)
	svc.accounts, err = accounts.New(db, &temporalclient.Accounts{Client: svc.ops, DB: db}, accounts.Options{Logger: logger, SuspendAfter: policy.SuspendAfter, Taxes: taxes, Now: now})
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
		sessions, throttles, err := s.db.PruneAuthState(ctx, s.clock.Now().Add(-24*time.Hour))
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
		// Reported, not gating: links, sign-in and webhooks work without it.
		checks = append(checks, web.Check{Name: "slack_socket", Ping: s.socket.Ready, Reported: true})
	}
	return checks
}

// temporalDialOptions are the TEMPORAL_* settings: address, namespace,
// credentials, TLS and the payload codec.
func temporalDialOptions(cfg config.Config, logger *slog.Logger) (temporalclient.DialOptions, error) {
	o := temporalclient.DialOptions{
		Address: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace, APIKey: cfg.TemporalAPIKey, Logger: logger,
		TLS: temporalclient.TLSFiles{CA: cfg.TemporalTLSCA, Cert: cfg.TemporalTLSCert, Key: cfg.TemporalTLSKey, ServerName: cfg.TemporalTLSServer},
	}
	if cfg.TemporalCodecKeys != "" {
		c, err := payloadcodec.ParseKeys(cfg.TemporalCodecKeys)
		if err != nil {
			return o, usageError{err.Error()}
		}
		o.Codec = c
	}
	if _, err := o.TLS.Config(); o.TLS != (temporalclient.TLSFiles{}) && err != nil {
		return o, usageError{err.Error()}
	}
	return o, nil
}

// codecServer is the codec server for the Temporal UI and CLI, nil
// without keys or without a token (open only says dev on loopback may
// serve it without one).
func (s *services) codecServer(open bool) http.Handler {
	if s.codec == nil || (s.cfg.TemporalCodecToken == "" && !open) {
		return nil
	}
	var origins []string
	if u, err := url.Parse(s.cfg.TemporalUIURL); err == nil && u.Scheme != "" && u.Host != "" {
		origins = append(origins, u.Scheme+"://"+u.Host)
		if u.Hostname() == "127.0.0.1" { // dev's UI, opened as localhost
			origins = append(origins, u.Scheme+"://localhost:"+u.Port())
		}
	}
	return payloadcodec.Handler(s.codec, payloadcodec.ServerOptions{Token: s.cfg.TemporalCodecToken, Open: open,
		Origins: origins, Namespace: s.cfg.TemporalNamespace, Logger: s.logger})
}

// handler assembles the HTTP surface; dev is nil outside dev mode.
func (s *services) handler(dev http.Handler) http.Handler { return web.New(s.webDeps(dev)) }

// adminHandler is ADMIN_HTTP_ADDR's: health, readiness, metrics, codec.
func (s *services) adminHandler() http.Handler {
	return web.Admin(web.Deps{Logger: s.logger, Ready: s.readyChecks(), Registry: s.registry, Codec: s.codecHandler})
}

func (s *services) webDeps(dev http.Handler) web.Deps {
	slackBot := s.inboundSlack()
	linkService := &links.Service{DB: s.db, Temporal: s.temporal, Payments: s.payments, PublicBaseURL: s.cfg.PublicBaseURL, Hasher: s.accounts.Hasher(),
		SuspendAfter: s.ops.Policy.SuspendAfter, Clock: s.clock}
	accountOptions := []web.AccountOption{web.WithBrand(s.brand), web.WithClock(s.clock), web.WithInvoicing(s.vendor), web.WithCardSessions(linkService)}
	if s.cfg.TrustProxy == "true" {
		accountOptions = append(accountOptions, web.TrustForwardedFor())
	}
	return web.Deps{
		Logger:         s.logger,
		Licenses:       s.db,
		History:        s.db,
		Invoices:       s.db,
		Provisioning:   s.db,
		Invites:        s.ops,
		AdminAPIToken:  s.cfg.AdminAPIToken,
		Ready:          s.readyChecks(),
		Registry:       s.registry,
		SlackCommands:  slackBot.verifier.Middleware(bot.CommandsHandler(slackBot.registry, s.logger)),
		SlackActions:   slackBot.verifier.Middleware(bot.InteractionsHandler(slackBot.registry, slackBot.responder, s.logger)),
		SlackEvents:    slackBot.verifier.Middleware(bot.EventsHandler(slackBot.registry, s.logger)),
		Links:          linkService,
		PaymentWebhook: payments.WebhookHandler(s.cfg.StripeWebhookSecret, time.Now, s.ops.HandlePaymentEvent, s.logger), //clock:wall the provider's timestamps are real time
		Sandbox:        sandboxHandler(s.sandbox),
		Account:        web.Account(s.accounts, s.logger, s.secureCookies(), accountOptions...),
		Sessions:       s.accounts,
		SecureCookies:  s.secureCookies(),
		Brand:          s.brand,
		FormTargets:    s.formTargets(),
		Dev:            dev,
		Clock:          s.clock,
		Webhooks: &web.Webhooks{Store: s.db, Policy: s.webhookPolicy(), CheckHost: s.webhooks.CheckHost,
			Nudge: s.ops.NudgeWebhooks},
		Codec:          s.codecHandler,
		AdminElsewhere: s.cfg.AdminHTTPAddr != "",
	}
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
		AlertChannel: s.cfg.SlackChannel, LargeInvoiceCents: s.pacing.LargeInvoiceCents,
		Brand: s.brand, Clock: s.clock, Taxes: s.taxes,
		Webhooks: activities.Webhooks{Sender: s.webhooks, Counted: s.metrics.webhookAttempted},
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

package main

import (
	"context"

	"golang.org/x/sync/errgroup"
	"io"
	"log/slog"
	"net"

	"licensedesk/config"
	"licensedesk/internal/clock"
)

func loadConfig(getenv func(string) string, required ...string) (config.Config, error) {
	cfg := config.Load(getenv)
	if err := cfg.Require(required...); err != nil {
		return cfg, usageError{err.Error()}
	}
	return cfg, nil
}

func configHelp() string { return config.Help() }

// process is what serve and worker share before they do their own work:
// their settings, checked (exit 2 naming what is missing, before anything
// connects), a logger, the listener for their HTTP address, and the
// connections to PostgreSQL and Temporal. Call close when done.
type process struct {
	cfg    config.Config
	logger *slog.Logger
	ln     net.Listener
	svc    *services
}

func startProcess(ctx context.Context, now clock.Clock, name string, args []string, getenv func(string) string, stderr io.Writer, required ...string) (*process, error) {
	if len(args) > 0 {
		return nil, usageErrorf("%s takes no arguments, only environment settings (see --help)", name)
	}
	cfg, err := loadConfig(getenv, required...)
	if err != nil {
		return nil, err
	}
	logger, err := cfg.Logger(stderr)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	if err := cfg.CheckSafe(); err != nil {
		return nil, usageError{err.Error()}
	}
	if err := checkPayments(cfg, false, logger); err != nil {
		return nil, err
	}
	if name == "serve" && cfg.AdminAPIToken == "" {
		logger.Warn("ADMIN_API_TOKEN is not set: /api/v1 refuses every request")
	}
	ln, err := listen(cfg.HTTPAddr)
	if err != nil {
		return nil, err
	}
	svc, err := openServices(ctx, cfg, false, logger, now)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return &process{cfg: cfg, logger: logger, ln: ln, svc: svc}, nil
}

func (p *process) close() { p.svc.close() }

// checkPayments refuses settings that choose no payment provider (exit 2,
// before anything is connected), and warns when serve or worker run the
// payments sandbox, which takes no real payment.
func checkPayments(cfg config.Config, dev bool, logger *slog.Logger) error {
	sandbox, err := cfg.UseSandbox(dev)
	if err != nil {
		return usageError{err.Error()}
	}
	if sandbox && !dev {
		logger.Warn("PAYMENTS_SANDBOX=true: payments go to the built-in sandbox; nobody is charged, and anyone with a card link can save a test card")
	}
	return nil
}

func runServe(ctx context.Context, now clock.Clock, args []string, getenv func(string) string, stderr io.Writer) error {
	p, err := startProcess(ctx, now, "serve", args, getenv, stderr,
		"DATABASE_URL", "TEMPORAL_ADDRESS", "PUBLIC_BASE_URL", "SLACK_SIGNING_SECRET", "STRIPE_WEBHOOK_SECRET")
	if err != nil {
		return err
	}
	defer p.close()
	if err := p.svc.startSlack(ctx); err != nil {
		return err
	}
	go p.svc.pruneAuthState(ctx)
	if p.cfg.AdminHTTPAddr == "" {
		p.logger.Warn("ADMIN_HTTP_ADDR is not set: /metrics and /readyz are served on the public listener, and there is no codec server")
		p.logger.Info("serving HTTP", "addr", p.ln.Addr().String())
		return serveHTTP(ctx, p.ln, p.svc.handler(nil), p.logger)
	}
	admin, err := listen(p.cfg.AdminHTTPAddr)
	if err != nil {
		return err
	}
	p.svc.codecHandler = p.svc.codecServer(false)
	if p.svc.codecHandler == nil && p.svc.codec != nil {
		p.logger.Info("TEMPORAL_CODEC_AUTH_TOKEN is not set: no codec server (the Temporal UI shows payloads encrypted)")
	}
	p.logger.Info("serving HTTP", "addr", p.ln.Addr().String(), "admin_addr", admin.Addr().String(), "codec_server", p.svc.codecHandler != nil)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveHTTP(gctx, admin, p.svc.adminHandler(), p.logger) })
	g.Go(func() error { return serveHTTP(gctx, p.ln, p.svc.handler(nil), p.logger) })
	return g.Wait()
}

package main

import (
	"context"
	"io"
	"log/slog"

	"licensedesk/config"
)

func loadConfig(getenv func(string) string, required ...string) (config.Config, error) {
	cfg := config.Load(getenv)
	if err := cfg.Require(required...); err != nil {
		return cfg, usageError{err.Error()}
	}
	return cfg, nil
}

func configHelp() string { return config.Help() }

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

func runServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	if len(args) > 0 {
		return usageErrorf("serve takes no arguments, only environment settings (see --help)")
	}
	cfg, err := loadConfig(getenv, "DATABASE_URL", "TEMPORAL_ADDRESS", "PUBLIC_BASE_URL", "SLACK_SIGNING_SECRET", "STRIPE_WEBHOOK_SECRET")
	if err != nil {
		return err
	}
	logger, err := cfg.Logger(stderr)
	if err != nil {
		return usageError{err.Error()}
	}
	if err := checkPayments(cfg, false, logger); err != nil {
		return err
	}
	if cfg.AdminAPIToken == "" {
		logger.Warn("ADMIN_API_TOKEN is not set: /api/v1 refuses every request")
	}
	ln, err := listen(cfg.HTTPAddr)
	if err != nil {
		return err
	}
	svc, err := openServices(ctx, cfg, false, logger)
	if err != nil {
		ln.Close()
		return err
	}
	defer svc.close()
	logger.Info("serving HTTP", "addr", ln.Addr().String())
	go svc.pruneAuthState(ctx)
	return serveHTTP(ctx, ln, svc.handler(nil), logger)
}

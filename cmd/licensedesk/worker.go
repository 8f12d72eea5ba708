package main

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/sync/errgroup"

	"licensedesk/web"
	"licensedesk/worker"
)

func runWorker(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	if len(args) > 0 {
		return usageErrorf("worker takes no arguments, only environment settings (see --help)")
	}
	cfg, err := loadConfig(getenv, "DATABASE_URL", "TEMPORAL_ADDRESS", "PUBLIC_BASE_URL", "SMTP_URL", "STRIPE_WEBHOOK_SECRET")
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
	if err := svc.ensureBilling(ctx); err != nil {
		return fmt.Errorf("start billing: %w", err)
	}
	w := worker.New(svc.temporal, cfg.TemporalTaskQueue, svc.activities())
	g, ctx := errgroup.WithContext(ctx)
	// The worker's own small HTTP server: liveness, readiness and metrics.
	g.Go(func() error {
		h := web.New(web.Deps{Logger: logger, Ready: svc.readyChecks(), Registry: svc.registry})
		return serveHTTP(ctx, ln, h, logger)
	})
	g.Go(func() error {
		logger.Info("worker polling", "task_queue", cfg.TemporalTaskQueue, "namespace", cfg.TemporalNamespace)
		return worker.Run(ctx, w)
	})
	return g.Wait()
}

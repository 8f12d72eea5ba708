package main

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/sync/errgroup"

	"licensedesk/internal/clock"
	"licensedesk/web"
	"licensedesk/worker"
)

func runWorker(ctx context.Context, now clock.Clock, args []string, getenv func(string) string, stderr io.Writer) error {
	p, err := startProcess(ctx, now, "worker", args, getenv, stderr,
		"DATABASE_URL", "TEMPORAL_ADDRESS", "PUBLIC_BASE_URL", "SMTP_URL", "STRIPE_WEBHOOK_SECRET")
	if err != nil {
		return err
	}
	defer p.close()
	if err := p.svc.ensureBilling(ctx); err != nil {
		return fmt.Errorf("start billing: %w", err)
	}
	w := worker.New(p.svc.temporal, p.cfg.TemporalTaskQueue, p.svc.activities())
	g, ctx := errgroup.WithContext(ctx)
	// The worker's own small HTTP server: liveness, readiness and metrics.
	g.Go(func() error {
		h := web.New(web.Deps{Logger: p.logger, Ready: p.svc.readyChecks(), Registry: p.svc.registry})
		return serveHTTP(ctx, p.ln, h, p.logger)
	})
	g.Go(func() error { p.svc.listenWebhooks(ctx); return nil })
	g.Go(func() error {
		p.logger.Info("worker polling", "task_queue", p.cfg.TemporalTaskQueue, "namespace", p.cfg.TemporalNamespace)
		return worker.Run(ctx, w)
	})
	return g.Wait()
}

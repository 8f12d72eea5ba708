package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/client"

	"licensedesk/activities"
	"licensedesk/bot"
	"licensedesk/config"
	"licensedesk/postgres"
	"licensedesk/web"
	"licensedesk/worker"
)

// services are the long-lived connections every process role shares.
type services struct {
	cfg      config.Config
	logger   *slog.Logger
	db       *postgres.DB
	temporal client.Client
	registry *prometheus.Registry
	closeTC  func()
}

func openServices(ctx context.Context, cfg config.Config, logger *slog.Logger) (*services, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	tc, closeTC, err := worker.Dial(ctx, worker.ClientOptions{
		Address: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace, APIKey: cfg.TemporalAPIKey,
		Logger: logger, Metrics: reg,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &services{cfg: cfg, logger: logger, db: db, temporal: tc, registry: reg, closeTC: closeTC}, nil
}

func (s *services) close() {
	s.closeTC()
	s.db.Close()
}

func (s *services) readyChecks() []web.Check {
	return []web.Check{
		{Name: "database", Ping: s.db.Ping},
		{Name: "temporal", Ping: func(ctx context.Context) error {
			_, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
	}
}

// handler assembles the HTTP surface; dev is nil outside dev mode.
func (s *services) handler(dev http.Handler) http.Handler {
	allow := bot.ParseAllow(s.cfg.SlackAllowRead, s.cfg.SlackAllowAct)
	registry := bot.NewRegistry(allow, nil, s.logger, bot.ShowCommand(s.db))
	verifier := bot.Verifier{Secret: []byte(s.cfg.SlackSigningSecret), Now: time.Now, MaxAge: 5 * time.Minute, Logger: s.logger}
	return web.New(web.Deps{
		Logger:        s.logger,
		Licenses:      s.db,
		AdminAPIToken: s.cfg.AdminAPIToken,
		Ready:         s.readyChecks(),
		Registry:      s.registry,
		SlackCommands: verifier.Middleware(bot.CommandsHandler(registry, s.logger)),
		Dev:           dev,
	})
}

func (s *services) activities() *activities.Activities {
	return &activities.Activities{DB: s.db}
}

// serveHTTP serves h on addr until ctx ends, then drains for up to 10 s.
// listening (if not nil) receives the bound address once accepting.
func serveHTTP(ctx context.Context, addr string, h http.Handler, logger *slog.Logger, listening chan<- string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
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
	if listening != nil {
		listening <- ln.Addr().String()
	}
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

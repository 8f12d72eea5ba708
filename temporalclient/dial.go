// Package worker connects to Temporal and runs licensedesk's worker: the
// process that executes workflows and activities.
package temporalclient

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
	"go.temporal.io/sdk/log"
)

// DialOptions are what Dial needs; they come from the TEMPORAL_* settings.
type DialOptions struct {
	Address   string
	Namespace string
	APIKey    string // Temporal Cloud; implies TLS
	Logger    *slog.Logger
	Metrics   prometheus.Registerer // SDK metrics are exported here; nil = none
}

// Dial connects to Temporal with the SDK's metrics going to Prometheus and
// its logs to slog. The returned close function also stops the metrics scope.
func Dial(ctx context.Context, o DialOptions) (client.Client, func(), error) {
	opts := client.Options{
		HostPort:  o.Address,
		Namespace: o.Namespace,
		Logger:    log.NewStructuredLogger(o.Logger.With("component", "temporal-sdk")),
	}
	if o.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(o.APIKey)
		opts.ConnectionOptions.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	closeScope := func() {}
	if o.Metrics != nil {
		reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: o.Metrics})
		scope, closer := tally.NewRootScope(tally.ScopeOptions{
			CachedReporter:  reporter,
			Separator:       tallyprom.DefaultSeparator,
			SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		}, time.Second)
		opts.MetricsHandler = sdktally.NewMetricsHandler(scope)
		closeScope = func() { _ = closer.Close() }
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		closeScope()
		return nil, nil, fmt.Errorf("connect to Temporal at %s: %w", o.Address, err)
	}
	return c, func() { c.Close(); closeScope() }, nil
}

package temporalclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
	"go.temporal.io/sdk/log"

	"licensedesk/payloadcodec"
)

// DialOptions are what Dial needs; they come from the TEMPORAL_* settings.
type DialOptions struct {
	Address   string
	Namespace string
	APIKey    string // Temporal Cloud; implies TLS
	TLS       TLSFiles
	// Codec encrypts every payload this client (and a worker built on it)
	// writes, and decrypts what it reads; nil writes them in clear.
	Codec   *payloadcodec.Codec
	Logger  *slog.Logger
	Metrics prometheus.Registerer // SDK metrics are exported here; nil = none
}

// TLSFiles name the PEM files for TLS to a self-hosted cluster
// (TEMPORAL_TLS_*): a CA to trust instead of the system's, and a client
// certificate and key for mTLS. Any of them turns TLS on.
type TLSFiles struct {
	CA         string // TEMPORAL_TLS_CA
	Cert       string // TEMPORAL_TLS_CERT
	Key        string // TEMPORAL_TLS_KEY
	ServerName string // TEMPORAL_TLS_SERVER_NAME: when the address is not the name in the server's certificate
}

func (f TLSFiles) enabled() bool {
	return f.CA != "" || f.Cert != "" || f.Key != "" || f.ServerName != ""
}

// Config builds the TLS configuration the files describe. The client
// certificate is read again at every handshake, so a rotated one (as
// cert-manager writes it) is used without a restart.
func (f TLSFiles) Config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName}
	if f.CA != "" {
		pem, err := os.ReadFile(f.CA)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA: %s holds no PEM certificate", f.CA)
		}
		cfg.RootCAs = pool
	}
	if (f.Cert == "") != (f.Key == "") {
		return nil, errors.New("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both for mTLS, or neither")
	}
	if f.Cert != "" {
		if _, err := tls.LoadX509KeyPair(f.Cert, f.Key); err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: %w", err)
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c, err := tls.LoadX509KeyPair(f.Cert, f.Key)
			return &c, err
		}
	}
	return cfg, nil
}

// Dial connects to Temporal with the SDK's metrics going to Prometheus and
// its logs to slog. The returned close function also stops the metrics scope.
func Dial(ctx context.Context, o DialOptions) (client.Client, func(), error) {
	opts, err := ClientOptions(o)
	if err != nil {
		return nil, nil, err
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

// ClientOptions are the SDK options o describes, without metrics: the
// address, the namespace, credentials, TLS and the payload codec. Tests
// dial with them too, so they read what the binary writes.
func ClientOptions(o DialOptions) (client.Options, error) {
	logger := o.Logger
	if logger == nil {
		logger = slog.Default()
	}
	opts := client.Options{
		HostPort:         o.Address,
		Namespace:        o.Namespace,
		Logger:           log.NewStructuredLogger(logger.With("component", "temporal-sdk")),
		DataConverter:    payloadcodec.DataConverter(o.Codec),
		FailureConverter: payloadcodec.FailureConverter(o.Codec),
	}
	if o.TLS.enabled() {
		cfg, err := o.TLS.Config()
		if err != nil {
			return opts, err
		}
		opts.ConnectionOptions.TLS = cfg
	}
	if o.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(o.APIKey)
		if opts.ConnectionOptions.TLS == nil {
			opts.ConnectionOptions.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		}
	}
	return opts, nil
}

package temporalclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"licensedesk/temporalclient"
)

// pki is a throwaway CA with a server and a client certificate, as PEM
// files in a temporary directory.
type pki struct {
	dir                       string
	ca                        *x509.Certificate
	caKey                     *ecdsa.PrivateKey
	serverCert, clientCert    tls.Certificate
	caFile, certFile, keyFile string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	p.caKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.caKey.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	p.ca, _ = x509.ParseCertificate(der)
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", der)
	p.serverCert, _, _ = p.issue(t, 2, "temporal-frontend.internal", x509.ExtKeyUsageServerAuth)
	var certDER, keyDER []byte
	p.clientCert, certDER, keyDER = p.issue(t, 3, "licensedesk-worker", x509.ExtKeyUsageClientAuth)
	p.certFile = p.write(t, "client.pem", "CERTIFICATE", certDER)
	p.keyFile = p.write(t, "client-key.pem", "PRIVATE KEY", keyDER)
	return p
}

func (p *pki) issue(t *testing.T, serial int64, name string, usage x509.ExtKeyUsage) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, NotBefore: time.Unix(0, 0), NotAfter: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der, keyDER
}

func (p *pki) write(t *testing.T, name, kind string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mtlsFrontend is a gRPC server that, like a Temporal frontend set up for
// mTLS, answers health checks only to clients with a certificate from the CA.
func mtlsFrontend(t *testing.T, p *pki) string {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	creds := credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{p.serverCert}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
	srv := grpc.NewServer(grpc.Creds(creds))
	workflowservice.RegisterWorkflowServiceServer(srv, systemInfoOnly{})
	hs := health.NewServer()
	hs.SetServingStatus("temporal.api.workflowservice.v1.WorkflowService", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

// systemInfoOnly answers the one call the SDK makes when it connects.
type systemInfoOnly struct {
	workflowservice.UnimplementedWorkflowServiceServer
}

func (systemInfoOnly) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{}, nil
}

func dial(addr string, files temporalclient.TLSFiles) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Dial checks the server's health before it returns.
	_, closeFn, err := temporalclient.Dial(ctx, temporalclient.DialOptions{Address: addr, Namespace: "default", TLS: files})
	if err == nil {
		closeFn()
	}
	return err
}

func TestDial_MutualTLSToASelfHostedCluster(t *testing.T) {
	p := newPKI(t)
	addr := mtlsFrontend(t, p)
	full := temporalclient.TLSFiles{CA: p.caFile, Cert: p.certFile, Key: p.keyFile, ServerName: "temporal-frontend.internal"}
	if err := dial(addr, full); err != nil {
		t.Fatalf("with CA, client certificate and server name: %v", err)
	}
	noCert := full
	noCert.Cert, noCert.Key = "", ""
	if err := dial(addr, noCert); err == nil {
		t.Error("connected without a client certificate")
	}
	wrongName := full
	wrongName.ServerName = "someone-else.internal"
	if err := dial(addr, wrongName); err == nil {
		t.Error("connected to a server whose certificate names another host")
	}
	if err := dial(addr, temporalclient.TLSFiles{}); err == nil {
		t.Error("connected in plaintext to a TLS server")
	}
}

func TestTLSFiles_ClearErrors(t *testing.T) {
	p := newPKI(t)
	for _, tc := range []struct {
		files temporalclient.TLSFiles
		want  string
	}{
		{temporalclient.TLSFiles{Cert: p.certFile}, "TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together"},
		{temporalclient.TLSFiles{CA: filepath.Join(p.dir, "missing.pem")}, "TEMPORAL_TLS_CA"},
		{temporalclient.TLSFiles{CA: p.keyFile}, "holds no PEM certificate"},
		{temporalclient.TLSFiles{Cert: p.certFile, Key: p.caFile}, "TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY"},
	} {
		_, err := tc.files.Config()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want an error saying %q", tc.files, err, tc.want)
		}
	}
}

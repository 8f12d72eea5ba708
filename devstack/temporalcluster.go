package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"
)

// The Temporal server production runs, on this machine: the server and its
// SQL schema tool built from go.temporal.io/server at the version
// temporal-server.mod pins, PostgreSQL for persistence and for (SQL
// advanced) visibility, and the frontend, history, matching and internal
// worker services each a process of its own, found by one another through
// the server's membership ring as in a deployment.

// TemporalServices are the services of a cluster, one process each, in the
// order they are started.
var TemporalServices = []string{"frontend", "history", "matching", "worker"}

// TemporalServerTools are the two binaries a cluster needs.
type TemporalServerTools struct {
	Server  string // temporal-server (go.temporal.io/server/cmd/server)
	SQLTool string // temporal-sql-tool (go.temporal.io/server/cmd/tools/sql)
}

// FindTemporalServer builds (once; then Go's build cache answers) the
// Temporal server and its SQL tool pinned in temporal-server.mod of the
// licensedesk repository this binary was built from (RepositoryRoot), with `go tool
// -modfile=temporal-server.mod -n`. Nothing is downloaded at run time
// beyond what the module file pins.
func FindTemporalServer(ctx context.Context) (TemporalServerTools, error) {
	root := RepositoryRoot()
	if root == "" {
		return TemporalServerTools{}, errors.New("the pinned Temporal server is built from the licensedesk repository this binary was built from (its temporal-server.mod), and that repository is not where it was: run it from a checkout (go run ./cmd/licensedesk)")
	}
	var t TemporalServerTools
	for _, tool := range []struct {
		name string
		dst  *string
	}{{"server", &t.Server}, {"sql", &t.SQLTool}} {
		cmd := exec.CommandContext(ctx, "go", "tool", "-modfile=temporal-server.mod", "-n", tool.name)
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return TemporalServerTools{}, fmt.Errorf("building the pinned Temporal server (go tool -modfile=temporal-server.mod %s in %s) failed: %v: %s",
				tool.name, root, err, strings.TrimSpace(stderr.String()))
		}
		*tool.dst = strings.TrimSpace(string(out))
	}
	return t, nil
}

// TemporalClusterOptions configure a cluster.
type TemporalClusterOptions struct {
	Tools TemporalServerTools
	Dir   string // its configuration files
	// PostgresURL is a superuser's URL of the PostgreSQL server; the cluster
	// gets a role of its own (temporal) owning its two databases
	// (temporal, temporal_visibility), as a deployment's DBA would set up.
	PostgresURL      string
	Namespace        string   // registered at start; default "default"
	SearchAttributes []string // "Name=Type", registered through the operator API
	HistoryShards    int      // default 4; fixed for the life of the databases
	Port             int      // the frontend's gRPC port; 0 picks a free one
	Log              io.Writer
}

// TemporalCluster is a running cluster.
type TemporalCluster struct {
	opts     TemporalClusterOptions
	addr     string // the frontend's host:port
	services map[string]*TemporalService
}

// TemporalService is one service's process.
type TemporalService struct {
	Name           string
	grpcAddr       string
	membershipAddr string
	bin            string
	args           []string
	log            io.Writer

	mu   sync.Mutex
	cmd  *exec.Cmd
	tail *tailWriter
	done chan struct{}
	err  error
}

// StartTemporalCluster installs or upgrades the schema with the server's
// SQL tool, starts the four services, waits for every one to report
// SERVING, and registers the namespace and search attributes. Ports it
// picks may be taken before a service binds them; then it tries again with
// new ones, up to three times.
func StartTemporalCluster(ctx context.Context, opts TemporalClusterOptions) (*TemporalCluster, error) {
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.HistoryShards == 0 {
		opts.HistoryShards = 4
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, err
	}
	db, err := prepareTemporalDatabases(ctx, opts)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		c, err := startTemporalCluster(ctx, opts, db)
		if err == nil || attempt == 3 || !errors.Is(err, errPortTaken) {
			return c, err
		}
	}
}

func startTemporalCluster(ctx context.Context, opts TemporalClusterOptions, db temporalDB) (*TemporalCluster, error) {
	ports, err := pickTemporalPorts(opts.Port)
	if err != nil {
		return nil, err
	}
	c := &TemporalCluster{opts: opts, addr: ports.addr("frontend"), services: map[string]*TemporalService{}}
	for _, name := range TemporalServices {
		// The server reads <root>/<config>/<env>.yaml: a file per service.
		env := "temporal-" + name
		if err := writeTemporalConfig(filepath.Join(opts.Dir, env+".yaml"), opts, db, ports, name); err != nil {
			return nil, err
		}
		c.services[name] = &TemporalService{Name: name, grpcAddr: ports.addr(name), bin: opts.Tools.Server, log: opts.Log,
			membershipAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports.membership[name])),
			args:           []string{"--root", opts.Dir, "--config", ".", "--env", env, "--allow-no-auth", "start", "--service", name}}
	}
	// All at once: a service started alone waits for the ring's members of
	// the last run, dead, to answer (up to maxJoinDuration). On new
	// databases, though, each writes the cluster's metadata and system
	// namespace if missing at start-up, and concurrent first writes collide
	// (the loser exits): startServices starts such a one again.
	if err := c.startServices(ctx, TemporalServices); err != nil {
		c.kill()
		return nil, err
	}
	if err := registerNamespace(ctx, c.addr, opts.Namespace, opts.SearchAttributes); err != nil {
		c.kill()
		return nil, fmt.Errorf("temporal: registering namespace %s and its search attributes: %w", opts.Namespace, err)
	}
	return c, nil
}

// startServices starts the named services together and waits until each
// serves. One that exits while starting is started again, twice at most,
// as a deployment's restart policy would.
func (c *TemporalCluster) startServices(ctx context.Context, names []string) error {
	for _, name := range names {
		if err := c.services[name].Start(); err != nil {
			return err
		}
	}
	for _, name := range names {
		s := c.services[name]
		for attempt := 1; ; attempt++ {
			err := s.WaitServing(ctx, 2*time.Minute)
			if err == nil {
				break
			}
			if attempt == 3 || !errors.Is(err, errExited) || errors.Is(err, errPortTaken) {
				return err
			}
			fmt.Fprintf(c.opts.Log, "temporal-%s: exited while starting; starting it again\n", name)
			if err := s.Start(); err != nil {
				return err
			}
		}
	}
	return nil
}

// errExited: a service's process exited.
var errExited = errors.New("exited")

// Address is the frontend's gRPC host:port, what TEMPORAL_ADDRESS names.
func (c *TemporalCluster) Address() string { return c.addr }

// Service returns the named service (one of TemporalServices).
func (c *TemporalCluster) Service(name string) *TemporalService { return c.services[name] }

// Restart kills a service (kill -9: no drain, no goodbye), starts it again
// on the same ports, and waits until it reports SERVING.
func (c *TemporalCluster) Restart(ctx context.Context, name string) error {
	s := c.services[name]
	s.Kill()
	if err := s.Start(); err != nil {
		return err
	}
	return s.WaitServing(ctx, 2*time.Minute)
}

// Stop interrupts every service (they then shut down cleanly) and kills
// whichever has not exited within ten seconds. Safe to call twice.
func (c *TemporalCluster) Stop(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, s := range c.services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.stop(ctx)
		}()
	}
	wg.Wait()
	return nil
}

func (c *TemporalCluster) kill() {
	for _, s := range c.services {
		s.Kill()
	}
}

// Start starts the service's process (again).
func (s *TemporalService) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tail := newTailWriter(&prefixWriter{prefix: "temporal-" + s.Name + ": ", next: s.log})
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stdout, cmd.Stderr = tail, tail
	cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Pdeathsig fires when the forking thread exits: fork from a goroutine
	// of its own, as devstack's PostgreSQL does.
	errc := make(chan error, 1)
	go func() { errc <- cmd.Start() }()
	if err := <-errc; err != nil {
		return fmt.Errorf("start Temporal %s: %w", s.Name, err)
	}
	done := make(chan struct{})
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(done)
	}()
	s.cmd, s.tail, s.done = cmd, tail, done
	return nil
}

// Kill is kill -9 of the service's process group; it returns once the
// process is gone (and its ports free).
func (s *TemporalService) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}

func (s *TemporalService) stop(ctx context.Context) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd != nil {
		_ = stopProcess(ctx, cmd, done, 10*time.Second)
	}
}

// PID is the running process's id, 0 when none.
func (s *TemporalService) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// WaitServing waits until the service answers SERVING to a gRPC health
// check (history does once it holds its shards), or fails with the end of
// its log when it exits or limit passes.
func (s *TemporalService) WaitServing(ctx context.Context, limit time.Duration) error {
	s.mu.Lock()
	done, tail := s.done, s.tail
	s.mu.Unlock()
	deadline := time.Now().Add(limit) //clock:wall waits for a process
	var err error
	for {
		select {
		case <-done:
			log := tail.tail()
			s.mu.Lock()
			err := s.err
			s.mu.Unlock()
			if strings.Contains(log, "address already in use") {
				return fmt.Errorf("Temporal %s %w: %v: %w%s", s.Name, errExited, err, errPortTaken, log)
			}
			return fmt.Errorf("Temporal %s %w: %v%s", s.Name, errExited, err, log)
		default:
		}
		if err = s.checkServing(ctx); err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil { //clock:wall waits for a process
			return fmt.Errorf("Temporal %s did not report SERVING in %v: %w%s", s.Name, limit, errors.Join(err, ctx.Err()), tail.tail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// temporalHealthNames are the names the services with a gRPC API report
// their health under.
var temporalHealthNames = map[string]string{
	"frontend": "temporal.api.workflowservice.v1.WorkflowService",
	"history":  "temporal.api.workflowservice.v1.HistoryService",
	"matching": "temporal.api.workflowservice.v1.MatchingService",
}

// checkServing asks the service's gRPC health endpoint; the internal
// worker, which has no gRPC API, is ready once it answers on its
// membership port (it has joined the ring by then).
func (s *TemporalService) checkServing(ctx context.Context) error {
	name, ok := temporalHealthNames[s.Name]
	if !ok {
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", s.membershipAddr)
		if err != nil {
			return err
		}
		return conn.Close()
	}
	return checkServing(ctx, s.grpcAddr, name)
}

// temporalPorts are a cluster's ports: gRPC and membership for each
// service, the frontend's HTTP API, and each service's metrics.
type temporalPorts struct {
	grpc, membership, metrics map[string]int
	http                      int
}

func (p temporalPorts) addr(service string) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.grpc[service]))
}

func pickTemporalPorts(frontend int) (temporalPorts, error) {
	p := temporalPorts{grpc: map[string]int{}, membership: map[string]int{}, metrics: map[string]int{}}
	seen := map[int]bool{}
	pick := func() (int, error) {
		for range 1000 {
			n, err := freePortBelow32768()
			if err != nil || !seen[n] {
				seen[n] = true
				return n, err
			}
		}
		return 0, errors.New("temporal: no free port below 32768")
	}
	var err error
	if p.http, err = pick(); err != nil {
		return p, err
	}
	for _, s := range TemporalServices {
		for _, m := range []map[string]int{p.grpc, p.membership, p.metrics} {
			if m[s], err = pick(); err != nil {
				return p, err
			}
		}
	}
	if frontend != 0 {
		p.grpc["frontend"] = frontend
	}
	return p, nil
}

// freePortBelow32768 picks a free loopback port from 10000–32767: the
// server keeps each member's port in a smallint column of its PostgreSQL
// schema (cluster_membership.rpc_port), so the kernel's ephemeral ports,
// above 32767, are refused there.
func freePortBelow32768() (int, error) {
	var err error
	for range 100 {
		port := 10000 + mathrand.IntN(32768-10000)
		var l net.Listener
		if l, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			_ = l.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("temporal: no free port below 32768: %w", err)
}

// prefixWriter prefixes each line it passes on.
type prefixWriter struct {
	mu     sync.Mutex
	prefix string
	next   io.Writer
	buf    []byte
}

func (w *prefixWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		_, _ = fmt.Fprintf(w.next, "%s%s\n", w.prefix, w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	return len(b), nil
}

// temporalDB is how the services reach their databases.
type temporalDB struct {
	host     string
	port     int
	user     string
	password string
}

// temporalConfig is the static configuration of one service's process:
// the same for all four but for which metrics port it listens on.
var temporalConfig = template.Must(template.New("").Parse(`# Written by licensedesk (devstack/temporalcluster.go); rewritten at each start.
log:
  stdout: true
  level: warn
  format: json
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: {{.Shards}}
  datastores:
    postgres-default:
      sql:
        pluginName: postgres12
        databaseName: temporal
        connectAddr: "{{.DB.Host}}"
        connectProtocol: tcp
        user: {{.DB.User}}
        password: "{{.DB.Password}}"
        maxConns: 10
        maxIdleConns: 10
        maxConnLifetime: 1h
    postgres-visibility:
      sql:
        pluginName: postgres12
        databaseName: temporal_visibility
        connectAddr: "{{.DB.Host}}"
        connectProtocol: tcp
        user: {{.DB.User}}
        password: "{{.DB.Password}}"
        maxConns: 4
        maxIdleConns: 4
        maxConnLifetime: 1h
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: "127.0.0.1:{{.MetricsPort}}"
services:
{{- range .Services}}
  {{.Name}}:
    rpc:
      grpcPort: {{.GRPC}}
      membershipPort: {{.Membership}}
      bindOnIP: 127.0.0.1
{{- if .HTTP}}
      httpPort: {{.HTTP}}
{{- end}}
{{- end}}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "{{.Frontend}}"
dcRedirectionPolicy:
  policy: noop
`))

type temporalConfigService struct {
	Name                   string
	GRPC, Membership, HTTP int
}

func writeTemporalConfig(file string, opts TemporalClusterOptions, db temporalDB, p temporalPorts, service string) error {
	data := struct {
		Shards      int
		DB          struct{ Host, User, Password string }
		MetricsPort int
		Services    []temporalConfigService
		Frontend    string
	}{Shards: opts.HistoryShards, MetricsPort: p.metrics[service], Frontend: p.addr("frontend")}
	data.DB.Host = net.JoinHostPort(db.host, strconv.Itoa(db.port))
	data.DB.User, data.DB.Password = db.user, db.password
	for _, s := range TemporalServices {
		cs := temporalConfigService{Name: s, GRPC: p.grpc[s], Membership: p.membership[s]}
		if s == "frontend" {
			cs.HTTP = p.http
		}
		data.Services = append(data.Services, cs)
	}
	var buf bytes.Buffer
	if err := temporalConfig.Execute(&buf, data); err != nil {
		return err
	}
	return os.WriteFile(file, buf.Bytes(), 0o600) // it holds the database password
}

// parsePostgresURL takes host, port and credentials from a postgres:// URL.
func parsePostgresURL(raw string) (temporalDB, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return temporalDB{}, fmt.Errorf("temporal: PostgreSQL URL: %w", err)
	}
	host, portStr, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, portStr = u.Host, "5432"
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return temporalDB{}, fmt.Errorf("temporal: PostgreSQL URL: port %q", portStr)
	}
	pw, _ := u.User.Password()
	return temporalDB{host: host, port: port, user: u.User.Username(), password: pw}, nil
}

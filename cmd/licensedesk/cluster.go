package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"licensedesk/devstack"
	"licensedesk/internal/clock"
	"licensedesk/payloadcodec"
	"licensedesk/postgres"
)

// cluster is what deploy/ runs, as separate processes on this machine:
// PostgreSQL, a real Temporal cluster on it (cluster_temporal.go: its
// frontend, history, matching and worker services each a process),
// `migrate`, serves behind a round-robin proxy, and workers on one task
// queue, every one the real binary started with the environment a
// deployment gives it. The chaos
// harness kills and restarts its parts; `licensedesk cluster` just runs it.
type cluster struct {
	dir    string
	binary string
	log    io.Writer // the processes' output

	pgPort, temporalPort int
	pg                   *devstack.Postgres
	temporal             *devstack.TemporalCluster
	temporalTools        devstack.TemporalServerTools
	temporalStartup      time.Duration // schema, four services, namespace
	dbURL                string

	env     map[string]string // what every serve and worker gets
	serves  []*proc
	workers []*proc
	proxy   *roundRobin
	ln      net.Listener // the proxy's
	baseURL string       // PUBLIC_BASE_URL: the proxy
}

// clusterOptions say how many of each and what the processes talk to.
type clusterOptions struct {
	Dir              string
	Binary           string // the licensedesk binary the processes run
	Serves, Workers  int
	SMTPURL          string
	SlackAPIURL      string
	PaymentFaults    string            // PAYMENTS_SANDBOX_FAULTS
	Extra            map[string]string // more environment for every process
	Demo             bool              // load the demo data (SPEC §6)
	Log              io.Writer
	HTTPAddr         string
	SweepEveryString string // BILLING_SWEEP_INTERVAL
}

// proc is one licensedesk process of the cluster.
type proc struct {
	name string
	args []string
	env  []string
	addr string // its HTTP_ADDR

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

func startCluster(ctx context.Context, o clusterOptions) (*cluster, error) {
	c := &cluster{dir: o.Dir, binary: o.Binary, log: o.Log}
	if c.log == nil {
		c.log = io.Discard
	}
	var err error
	if c.pgPort, err = devstack.FreePort(); err != nil {
		return nil, err
	}
	if c.temporalPort, err = devstack.FreePort(); err != nil {
		return nil, err
	}
	if c.temporalTools, err = devstack.FindTemporalServer(ctx); err != nil {
		return nil, usageError{err.Error()}
	}
	if err := c.startPostgres(ctx); err != nil {
		return nil, err
	}
	if err := c.pg.CreateDatabase(ctx, "licensedesk"); err != nil {
		c.stop()
		return nil, err
	}
	c.dbURL = c.pg.URL("licensedesk")
	if err := c.startTemporal(ctx); err != nil {
		c.stop()
		return nil, err
	}

	addr := o.HTTPAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if c.ln, err = net.Listen("tcp", addr); err != nil {
		c.stop()
		return nil, err
	}
	c.baseURL = "http://" + c.ln.Addr().String()
	codecKey, err := payloadcodec.NewKey("cluster-1")
	if err != nil {
		c.stop()
		return nil, err
	}
	c.env = map[string]string{
		"DATABASE_URL": c.dbURL, "TEMPORAL_ADDRESS": c.temporal.Address(), "PUBLIC_BASE_URL": c.baseURL,
		// Secrets are new every run, never the source's: a cluster left
		// running is no open door for whoever read this file.
		"SLACK_SIGNING_SECRET": randomSecret(), "STRIPE_WEBHOOK_SECRET": "whsec_" + randomSecret(), "ADMIN_API_TOKEN": randomSecret(),
		"TEMPORAL_CODEC_KEYS": codecKey, "PAYMENTS_SANDBOX": "true", "SLACK_ALLOW_READ": "*", "SLACK_ALLOW_ACT": "*", "SLACK_ALLOW_EVERYONE": "true", "SLACK_CHANNEL": "C0CHAOS",
		"SMTP_URL": o.SMTPURL, "MAIL_FROM": "Licence Desk <no-reply@chaos.test>", "LOG_LEVEL": "warn", "LOG_FORMAT": "text",
	}
	if o.SlackAPIURL != "" {
		c.env["SLACK_API_URL"], c.env["SLACK_BOT_TOKEN"] = o.SlackAPIURL, "xoxb-chaos"
	}
	if o.PaymentFaults != "" {
		c.env["PAYMENTS_SANDBOX_FAULTS"] = o.PaymentFaults
	}
	if o.SweepEveryString != "" {
		c.env["BILLING_SWEEP_INTERVAL"] = o.SweepEveryString
	}
	for k, v := range o.Extra {
		c.env[k] = v
	}

	// migrate once, as a deployment's job does, then the demo data.
	if out, err := c.command(ctx, "migrate").CombinedOutput(); err != nil {
		c.stop()
		return nil, fmt.Errorf("migrate: %v\n%s", err, out)
	}
	if o.Demo {
		db, err := postgres.Open(ctx, c.dbURL)
		if err != nil {
			c.stop()
			return nil, err
		}
		_, err = db.SeedDemo(ctx, clock.Real.Now())
		db.Close()
		if err != nil {
			c.stop()
			return nil, err
		}
	}

	for i := range o.Serves {
		c.serves = append(c.serves, c.newProc(fmt.Sprintf("serve-%d", i+1), "serve"))
	}
	for i := range o.Workers {
		c.workers = append(c.workers, c.newProc(fmt.Sprintf("worker-%d", i+1), "worker"))
	}
	for _, p := range append(append([]*proc{}, c.serves...), c.workers...) {
		if err := c.run(ctx, p); err != nil {
			c.stop()
			return nil, err
		}
	}
	backends := make([]*url.URL, len(c.serves))
	for i, p := range c.serves {
		backends[i] = &url.URL{Scheme: "http", Host: p.addr}
	}
	c.proxy = newRoundRobin(backends)
	go func() { _ = http.Serve(c.ln, c.proxy) }()
	for _, p := range append(append([]*proc{}, c.serves...), c.workers...) {
		if err := waitReady(ctx, p.addr, 60*time.Second); err != nil {
			c.stop()
			return nil, fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return c, nil
}

func (c *cluster) startPostgres(ctx context.Context) error {
	pg, err := devstack.StartPostgres(ctx, devstack.PostgresOptions{Dir: filepath.Join(c.dir, "postgres"), Port: c.pgPort, Log: c.log,
		MaxConnections: 200}) // the Temporal services' pools (up to 14 each) beside the processes'
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	c.pg = pg
	return nil
}

func (c *cluster) newProc(name, role string) *proc {
	port, _ := devstack.FreePort()
	p := &proc{name: name, args: []string{role}, addr: "127.0.0.1:" + strconv.Itoa(port)}
	for k, v := range c.env {
		p.env = append(p.env, k+"="+v)
	}
	p.env = append(p.env, "HTTP_ADDR="+p.addr, "PATH="+os.Getenv("PATH"), "HOME="+os.Getenv("HOME"))
	return p
}

func (c *cluster) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.binary, args...)
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// run starts p (again); its output goes to the cluster's log, prefixed.
func (c *cluster) run(ctx context.Context, p *proc) error {
	cmd := exec.Command(c.binary, p.args...)
	cmd.Env = p.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := bufio.NewScanner(out)
		for s.Scan() {
			fmt.Fprintf(c.log, "%s: %s\n", p.name, s.Text())
		}
		_ = cmd.Wait()
	}()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	return nil
}

// kill is kill -9: no drain, no goodbye. It returns once the process is
// gone (and its port free).
func (p *proc) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	}
}

func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// restart kills p and starts it again.
func (c *cluster) restart(ctx context.Context, p *proc) error {
	p.kill()
	return c.run(ctx, p)
}

func (c *cluster) restartPostgres(ctx context.Context) error {
	if err := c.pg.Stop(ctx); err != nil {
		return err
	}
	return c.startPostgres(ctx)
}

func (c *cluster) stop() {
	for _, p := range append(append([]*proc{}, c.serves...), c.workers...) {
		p.kill()
	}
	if c.ln != nil {
		_ = c.ln.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c.temporal != nil {
		_ = c.temporal.Stop(ctx)
	}
	if c.pg != nil {
		_ = c.pg.Stop(ctx)
	}
}

// waitReady polls a process's /readyz.
func waitReady(ctx context.Context, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return errors.New("not ready in time")
}

// roundRobin is the small load balancer in front of the serves: each
// request goes to the next backend; a backend that refuses the connection
// (killed) is skipped for the next one, as a load balancer's health check
// would.
type roundRobin struct {
	backends []*httputil.ReverseProxy
	next     atomic.Uint64
}

func newRoundRobin(targets []*url.URL) *roundRobin {
	rr := &roundRobin{}
	for _, t := range targets {
		p := httputil.NewSingleHostReverseProxy(t)
		p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("X-Backend-Down", "1")
			w.WriteHeader(http.StatusBadGateway)
		}
		rr.backends = append(rr.backends, p)
	}
	return rr
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Buffer the body so a request can go to the next backend when one is down.
	body, _ := io.ReadAll(r.Body)
	start := rr.next.Add(1)
	for i := range len(rr.backends) {
		rec := &bufferedResponse{header: http.Header{}}
		req := r.Clone(r.Context())
		req.Body = io.NopCloser(bytesReader(body))
		rr.backends[(int(start)+i)%len(rr.backends)].ServeHTTP(rec, req)
		if rec.header.Get("X-Backend-Down") != "" && i < len(rr.backends)-1 {
			continue
		}
		rec.header.Del("X-Backend-Down")
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body)
		return
	}
}

// runCluster is `licensedesk cluster`: the topology of deploy/ on this
// machine, until Ctrl-C.
type clusterFlags struct {
	dir, http       string
	serves, workers int
	expose          bool
}

func clusterFlagSet(f *clusterFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.StringVar(&f.dir, "data-dir", "", "where the cluster keeps its state (default: a new temporary directory)")
	fs.IntVar(&f.serves, "serves", 2, "serve processes behind the proxy")
	fs.IntVar(&f.workers, "workers", 3, "worker processes on the task queue")
	fs.StringVar(&f.http, "http", "127.0.0.1:8080", "the proxy's address (this machine only, unless --expose)")
	fs.BoolVar(&f.expose, "expose", false, "allow a --http address other machines reach: the cluster runs the payments sandbox and lets every Slack user act")
	return fs
}

func runCluster(ctx context.Context, args []string, stdout io.Writer) error {
	var f clusterFlags
	fs := clusterFlagSet(&f)
	fs.SetOutput(stdout)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	dir, serves, workers, httpAddr := &f.dir, &f.serves, &f.workers, &f.http
	if err := checkClusterAddr(*httpAddr, f.expose); err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	if *dir == "" {
		if *dir, err = os.MkdirTemp("", "licensedesk-cluster-"); err != nil {
			return err
		}
		_ = os.Chmod(*dir, 0o755)
	}
	logFile, err := os.Create(filepath.Join(*dir, "cluster.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	sink, err := startSMTPSink()
	if err != nil {
		return err
	}
	defer sink.close()
	c, err := startCluster(ctx, clusterOptions{Dir: *dir, Binary: bin, Serves: *serves, Workers: *workers, Log: logFile, HTTPAddr: *httpAddr, Demo: true,
		SMTPURL: "smtp://" + sink.addr})
	if err != nil {
		return err
	}
	defer c.stop()
	fmt.Fprintf(stdout, "cluster is up: %s (proxy) → %d serves, %d workers; PostgreSQL %s; Temporal %s\n",
		c.baseURL, len(c.serves), len(c.workers), redactURL(c.dbURL), c.temporal.Address())
	fmt.Fprintf(stdout, "Temporal: frontend, history, matching and worker services on PostgreSQL (%d history shards), ready in %.1f s; resident: %s\n",
		clusterHistoryShards, c.temporalStartup.Seconds(), c.temporalRSS())
	fmt.Fprintf(stdout, "Slack signing secret %s, API token %s; mail goes to an SMTP sink at %s; logs in %s\n",
		c.env["SLACK_SIGNING_SECRET"], c.env["ADMIN_API_TOKEN"], sink.addr, logFile.Name())
	<-ctx.Done()
	return nil
}

// checkClusterAddr refuses a proxy address other machines reach unless
// --expose says it is meant: the cluster is a test bench (sandbox payments,
// every Slack user allowed, demo accounts with the published password).
func checkClusterAddr(addr string, expose bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErrorf("--http %q: want host:port", addr)
	}
	ip := net.ParseIP(host)
	if expose || host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return usageErrorf("--http %s is reachable from other machines, and the cluster is a test bench (sandbox payments, every Slack user may act, demo passwords): use 127.0.0.1, or add --expose on purpose", addr)
}

func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "?"
	}
	return p.Redacted()
}

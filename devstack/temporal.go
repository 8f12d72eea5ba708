package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
)

// TemporalOptions configures a Temporal dev server (the Temporal CLI's
// `server start-dev`: a real server on SQLite, plus the web UI).
type TemporalOptions struct {
	Binary           string // the temporal CLI; see FindTemporal
	DBFile           string // SQLite file keeping workflows across restarts; "" = in memory
	Port             int    // gRPC port; 0 picks a free one
	UIPort           int    // web UI port; 0 picks a free one; -1 disables the UI
	Namespace        string
	SearchAttributes []string // "Name=Type", registered at start
	UICodecEndpoint  string   // the codec server the UI decodes payloads through; "" = none
	Log              io.Writer
}

// Temporal is a running dev server.
type Temporal struct {
	cmd     *exec.Cmd
	addr    string
	uiURL   string
	done    chan struct{}
	waitErr error
}

// ErrNoTemporal means no Temporal CLI could be found or built.
var ErrNoTemporal = errors.New("Temporal CLI not found")

// FindTemporal returns the path of the Temporal CLI binary: $TEMPORAL_CLI if
// set; else the version pinned in the tools.mod of the repository this
// binary was built from (RepositoryRoot), built once, then cached, by
// `go tool -modfile=tools.mod -n temporal`; else `temporal` on PATH. The
// working directory plays no part: a tools.mod planted above it (a shared
// temporary directory, a stranger's checkout) is never built or run.
func FindTemporal(ctx context.Context) (string, error) {
	if p := os.Getenv("TEMPORAL_CLI"); p != "" {
		return p, nil
	}
	if root := RepositoryRoot(); root != "" {
		cmd := exec.CommandContext(ctx, "go", "tool", "-modfile=tools.mod", "-n", "temporal")
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("%w: building the pinned Temporal CLI (go tool -modfile=tools.mod temporal in %s) failed: %v: %s", ErrNoTemporal, root, err, strings.TrimSpace(stderr.String()))
		}
		if p := strings.TrimSpace(string(out)); p != "" {
			return p, nil
		}
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w: build licensedesk from its repository (its tools.mod pins the CLI), put `temporal` on PATH, set TEMPORAL_CLI, or set TEMPORAL_ADDRESS to use an existing server", ErrNoTemporal)
}

// RepositoryRoot is the licensedesk checkout this binary was compiled
// from, found from this source file's compiled-in path (go run, go test,
// go build without -trimpath), and only if it still holds licensedesk's
// go.mod and tools.mod; "" otherwise (a release binary, a moved checkout).
func RepositoryRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	root := filepath.Dir(filepath.Dir(file))
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.HasPrefix(mod, []byte("module licensedesk\n")) {
		return ""
	}
	if _, err := os.Stat(filepath.Join(root, "tools.mod")); err != nil {
		return ""
	}
	return root
}

// StartTemporal starts a dev server and waits until it answers health checks.
// Ports it picks itself (all but those opts names) are free when picked but
// may be taken by another process before the server binds them; then it
// tries again with new ones, up to three times (a port opts names that is
// taken fails the same way three times).
func StartTemporal(ctx context.Context, opts TemporalOptions) (*Temporal, error) {
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	for attempt := 1; ; attempt++ {
		t, err := startTemporal(ctx, opts)
		if err == nil || attempt == 3 || !errors.Is(err, errPortTaken) {
			return t, err
		}
	}
}

// errPortTaken: the server could not bind a port picked for it.
var errPortTaken = errors.New("a port picked for the server was taken meanwhile")

func startTemporal(ctx context.Context, opts TemporalOptions) (*Temporal, error) {
	var err error
	if opts.Port == 0 {
		if opts.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	if opts.UIPort == 0 {
		if opts.UIPort, err = FreePort(); err != nil {
			return nil, err
		}
	}
	// The server's internal HTTP and metrics ports default to fixed numbers;
	// pick free ones so two servers (tests, dev) can run side by side.
	httpPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	metricsPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1", "--port", strconv.Itoa(opts.Port),
		"--http-port", strconv.Itoa(httpPort), "--metrics-port", strconv.Itoa(metricsPort),
		"--namespace", opts.Namespace, "--log-level", "warn", "--log-format", "json",
	}
	if opts.DBFile != "" {
		args = append(args, "--db-filename", opts.DBFile)
	}
	if opts.UIPort < 0 {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-ip", "127.0.0.1", "--ui-port", strconv.Itoa(opts.UIPort))
		if opts.UICodecEndpoint != "" {
			args = append(args, "--ui-codec-endpoint", opts.UICodecEndpoint)
		}
	}
	for _, sa := range opts.SearchAttributes {
		args = append(args, "--search-attribute", sa)
	}
	cmd := exec.Command(opts.Binary, args...)
	tail := newTailWriter(opts.Log)
	cmd.Stdout = tail
	cmd.Stderr = tail
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start Temporal dev server: %w", err)
	}
	t := &Temporal{cmd: cmd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.Port)), done: make(chan struct{})}
	if opts.UIPort > 0 {
		t.uiURL = fmt.Sprintf("http://127.0.0.1:%d", opts.UIPort)
	}
	go func() { t.waitErr = cmd.Wait(); close(t.done) }()

	if err := t.waitHealthy(ctx, opts.Namespace, 60*time.Second); err != nil {
		_ = t.Stop(context.Background())
		log := tail.tail()
		if strings.Contains(log, "address already in use") {
			err = errors.Join(err, errPortTaken) // the HTTP and metrics ports are always picked here
		}
		return nil, fmt.Errorf("Temporal dev server did not become ready: %w%s", err, log)
	}
	return t, nil
}

func (t *Temporal) waitHealthy(ctx context.Context, namespace string, limit time.Duration) error {
	deadline := time.Now().Add(limit) //clock:wall waits for a process
	for {
		select {
		case <-t.done:
			return fmt.Errorf("it exited: %v", t.waitErr)
		default:
		}
		err := func() error {
			c, err := client.Dial(client.Options{HostPort: t.addr, Namespace: namespace, Logger: quietLogger{}})
			if err != nil {
				return err
			}
			defer c.Close()
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err = c.CheckHealth(cctx, &client.CheckHealthRequest{})
			return err
		}()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil { //clock:wall waits for a process
			return errors.Join(err, ctx.Err())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Address is the server's gRPC host:port.
func (t *Temporal) Address() string { return t.addr }

// UIURL is the web UI's base URL, "" when headless.
func (t *Temporal) UIURL() string { return t.uiURL }

// Stop interrupts the server (which then shuts down cleanly), and kills its
// process group if it has not exited within ten seconds. Safe to call twice.
func (t *Temporal) Stop(ctx context.Context) error {
	return stopProcess(ctx, t.cmd, t.done, 10*time.Second)
}

// stopProcess sends SIGINT to cmd's process group, waits for done up to
// grace (or ctx), then SIGKILLs the group.
func stopProcess(ctx context.Context, cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) error {
	select {
	case <-done:
		return nil
	default:
	}
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGINT)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-done:
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-done
	return nil
}

// FreePort asks the kernel for a free loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// quietLogger silences the Temporal SDK client while polling for readiness.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

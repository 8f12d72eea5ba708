// Package pgtest gives each test its own empty PostgreSQL database, all on
// one server per test binary: the one named by TEST_DATABASE_URL, or a
// throwaway cluster started on first use.
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestX(t *testing.T) { url := pgtest.NewDatabase(t); ... }
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/devstack"
)

// reapEnv makes a re-executed test binary the reaper of a cluster dir.
const reapEnv = "LICENSEDESK_PGTEST_REAP"

var mainCalled atomic.Bool

// server is the one server of this test binary, set up on first use.
var server struct {
	once     sync.Once
	adminURL string // a database that exists, to create and drop others from
	err      error

	pg     *devstack.Postgres
	tmp    string
	reaper *exec.Cmd
	stdin  io.Closer // closing it tells the reaper we are done
}

// Main runs the tests and exits with their code, after stopping and
// removing the cluster if one was started. Call it from TestMain before any
// other set-up: the binary re-runs itself as a clean-up helper.
func Main(m *testing.M) {
	if dir := os.Getenv(reapEnv); dir != "" {
		reap(dir)
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	mainCalled.Store(true)
	defer shutdown() // also on a panic in this goroutine
	return m.Run()
}

// NewDatabase creates an empty database, dropped when t ends, and returns
// its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if !mainCalled.Load() {
		t.Fatal("pgtest: add to this package: func TestMain(m *testing.M) { pgtest.Main(m) }")
		return ""
	}
	server.once.Do(setUp)
	if server.err != nil {
		t.Fatalf("pgtest: %v", server.err)
		return ""
	}
	name := databaseName(filepath.Base(os.Args[0]), randomSuffix())
	ident := pgx.Identifier{name}.Sanitize()
	if err := admin(t.Context(), "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
		return ""
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := admin(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: dropping database %s: %v", name, err)
		}
	})
	u, _ := withDatabase(server.adminURL, name) // parsed fine in setUp
	return u
}

func admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, server.adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// databaseName makes a safe, lower-case identifier from the test binary's
// name (pkg.test) and a random suffix.
func databaseName(binary, suffix string) string {
	pkg := strings.TrimSuffix(strings.TrimSuffix(binary, ".exe"), ".test")
	var b strings.Builder
	for _, r := range strings.ToLower(pkg) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		name = "test_" + name
	}
	// 63 bytes is PostgreSQL's identifier limit.
	if max := 63 - 1 - len(suffix); len(name) > max {
		name = name[:max]
	}
	return name + "_" + suffix
}

func randomSuffix() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// withDatabase swaps the database name in a postgres:// URL.
func withDatabase(rawURL, database string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("TEST_DATABASE_URL must be a postgres:// URL")
	}
	u.Path, u.RawPath = "/"+database, ""
	return u.String(), nil
}

func setUp() {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		// Its database exists and stays put: a sound place to administer from.
		if _, err := withDatabase(u, "x"); err != nil {
			server.err = err
			return
		}
		server.adminURL = u
		return
	}
	server.err = startCluster()
}

func startCluster() error {
	tmp, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return err
	}
	server.tmp = tmp
	if os.Geteuid() == 0 {
		// The server runs as the postgres user, which must reach the cluster.
		if err := os.Chmod(tmp, 0o711); err != nil {
			return err
		}
	}
	startReaper(filepath.Join(tmp, "data"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pg, err := devstack.StartPostgres(ctx, devstack.PostgresOptions{Dir: filepath.Join(tmp, "data"), Fast: true})
	if err != nil {
		return err
	}
	server.pg = pg
	server.adminURL = pg.URL("postgres")
	return nil
}

// shutdown undoes startCluster, whatever part of it happened.
func shutdown() {
	if server.pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		if err := server.pg.Stop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
		cancel()
	}
	if server.tmp != "" {
		if err := os.RemoveAll(server.tmp); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	if server.reaper != nil {
		server.stdin.Close()
		_ = server.reaper.Wait()
	}
}

// startReaper covers what defers cannot: a panicking test or a timeout
// kills the process from another goroutine. The server then dies of
// Pdeathsig, and this child of ours, seeing its stdin close, removes the
// directory. It is this test binary again, recognised by Main.
func startReaper(dataDir string) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), reapEnv+"="+dataDir)
	// Own process group: a Ctrl-C aimed at the tests must not reach it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: no reaper for a crashed run:", err)
		return
	}
	server.reaper, server.stdin = cmd, stdin
}

// reap waits for the test binary to end, then for its server, and removes
// the temporary directory holding dataDir.
func reap(dataDir string) {
	_, _ = io.Copy(io.Discard, os.Stdin)
	tmp := filepath.Dir(dataDir)
	if _, err := os.Stat(tmp); err != nil {
		return // removed by a clean shutdown
	}
	if b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid")); err == nil {
		first, _, _ := strings.Cut(string(b), "\n")
		if pid, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && pid > 0 {
			for deadline := time.Now().Add(10 * time.Second); alive(pid) && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	// Exiting backends may still write a file or two.
	for range 20 {
		if os.RemoveAll(tmp) == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// alive is false for a zombie: nothing may reap it in a container.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

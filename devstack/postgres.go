// Package devstack runs the local dependencies of `licensedesk dev` and of
// the tests: for now, a private PostgreSQL cluster.
package devstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNoPostgres is returned when the server binaries cannot be found.
var ErrNoPostgres = errors.New("PostgreSQL server binaries (initdb, postgres) not found on PATH or under /usr/lib/postgresql/*/bin: install them, or set DATABASE_URL to use an existing server")

// postgresLibGlob is where distribution packages put versioned installs;
// a variable so tests can hide them.
var postgresLibGlob = "/usr/lib/postgresql/*/bin"

const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
	logTailBytes = 4 << 10
)

// FindPostgres returns the directory holding initdb and postgres of one
// installation: the one on PATH, else the newest under /usr/lib/postgresql.
func FindPostgres() (binDir string, err error) {
	// PATH entries are often symlinks or wrappers; only a directory holding
	// both binaries guarantees they come from the same install.
	for _, name := range []string{"initdb", "postgres"} {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			continue
		}
		if dir := filepath.Dir(real); hasServerBinaries(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(postgresLibGlob)
	slices.SortFunc(dirs, func(a, b string) int {
		return slices.Compare(versionOf(b), versionOf(a)) // newest first
	})
	for _, dir := range dirs {
		if hasServerBinaries(dir) {
			return dir, nil
		}
	}
	return "", ErrNoPostgres
}

func hasServerBinaries(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// versionOf turns /usr/lib/postgresql/9.6/bin into [9 6].
func versionOf(binDir string) []int {
	var v []int
	for _, part := range strings.Split(filepath.Base(filepath.Dir(binDir)), ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil
		}
		v = append(v, n)
	}
	return v
}

// PostgresOptions configure StartPostgres.
type PostgresOptions struct {
	Dir  string    // cluster directory, created (and initialised) if missing
	Port int       // 0 picks a free loopback port
	Log  io.Writer // server output; may be nil
	Fast bool      // trade durability for speed (fsync off): for tests only
	// MaxConnections overrides the server's max_connections (100) when > 0.
	MaxConnections int
}

// Postgres is a running private cluster. Its only role is postgres, whose
// password is kept next to the cluster directory.
type Postgres struct {
	dir      string
	port     int
	password string
	cmd      *exec.Cmd
	log      *tailWriter

	exited  chan struct{} // closed once the server process has been reaped
	waitErr error

	stopOnce sync.Once
	stopErr  error
}

// serverUser is who runs initdb and postgres; nil means ourselves.
type serverUser struct {
	uid, gid uint32
	groups   []uint32
}

// StartPostgres starts (after initialising, on first use) the cluster in
// opts.Dir and returns once it accepts connections.
func StartPostgres(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	if opts.Dir == "" {
		return nil, errors.New("postgres: no cluster directory given")
	}
	binDir, err := FindPostgres()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	var su *serverUser
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		if su, err = lookupServerUser(); err != nil {
			return nil, err
		}
		if err := checkReachable(dir, su); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if su != nil {
		// A umask of 077 may have made the new parents private.
		if err := checkReachable(dir, su); err != nil {
			return nil, err
		}
		if err := os.Chown(dir, int(su.uid), int(su.gid)); err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
	}

	passwordFile := dir + ".password"
	var password string
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			return nil, fmt.Errorf("postgres: cluster %s exists but its password cannot be read (%v): remove the cluster directory to start afresh", dir, err)
		}
		password = strings.TrimSpace(string(b))
	} else {
		if password, err = initCluster(ctx, binDir, dir, passwordFile, su, opts); err != nil {
			return nil, err
		}
	}
	if err := clearStaleLock(dir); err != nil {
		return nil, err
	}

	// A port picked here may be taken before postgres binds it: retry then.
	attempts := 1
	if opts.Port == 0 {
		attempts = 3
	}
	for i := 1; ; i++ {
		port := opts.Port
		if port == 0 {
			if port, err = FreePort(); err != nil {
				return nil, fmt.Errorf("postgres: picking a port: %w", err)
			}
		}
		p := &Postgres{dir: dir, port: port, password: password}
		err := p.start(ctx, binDir, su, opts)
		if err == nil {
			return p, nil
		}
		if i >= attempts || !p.portTaken() {
			return nil, err
		}
	}
}

func lookupServerUser() (*serverUser, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("postgres: running as root needs a 'postgres' OS user to run the server (%v): create it, or set DATABASE_URL to use an existing server", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("postgres: unexpected uid/gid %s/%s for user postgres", u.Uid, u.Gid)
	}
	su := &serverUser{uid: uint32(uid), gid: uint32(gid)}
	gids, _ := u.GroupIds()
	for _, g := range gids {
		if n, err := strconv.ParseUint(g, 10, 32); err == nil {
			su.groups = append(su.groups, uint32(n))
		}
	}
	if !slices.Contains(su.groups, su.gid) {
		su.groups = append(su.groups, su.gid)
	}
	return su, nil
}

// checkReachable fails when the server user could not traverse every
// existing ancestor of dir, e.g. a data dir under /root.
func checkReachable(dir string, su *serverUser) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil && !canTraverse(fi, su) {
			return fmt.Errorf("postgres: the postgres OS user, which runs the server when licensedesk runs as root, cannot reach %s because %s is not accessible to it: choose a --data-dir elsewhere (e.g. under /var/tmp), or set DATABASE_URL", dir, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func canTraverse(fi os.FileInfo, su *serverUser) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == su.uid:
		return perm&0o100 != 0
	case slices.Contains(su.groups, st.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

func initCluster(ctx context.Context, binDir, dir, passwordFile string, su *serverUser, opts PostgresOptions) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	password := hex.EncodeToString(b)
	if err := os.WriteFile(passwordFile, []byte(password+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("postgres: writing password file: %w", err)
	}
	if err := os.Chmod(passwordFile, 0o600); err != nil { // an older file may be wider
		return "", fmt.Errorf("postgres: %w", err)
	}
	if su != nil {
		// initdb reads it as postgres; root can still read it afterwards.
		if err := os.Chown(passwordFile, int(su.uid), int(su.gid)); err != nil {
			return "", fmt.Errorf("postgres: %w", err)
		}
	}
	args := []string{
		"-D", dir, "-U", "postgres",
		"--auth=scram-sha-256", "--pwfile=" + passwordFile,
		"--encoding=UTF8", "--locale=C",
	}
	if opts.Fast {
		args = append(args, "--no-sync")
	}
	log := newTailWriter(opts.Log)
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"), args...)
	cmd.Stdout, cmd.Stderr = log, log
	prepare(cmd, dir, su)
	// initdb removes what it created when interrupted, but not when killed.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopTimeout
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("postgres: initdb %s: %w", dir, ctx.Err())
		}
		return "", fmt.Errorf("postgres: initdb %s failed: %v%s", dir, err, log.tail())
	}
	return password, nil
}

// prepare sets what every server-side process needs: its own process group
// (so a terminal's Ctrl-C reaches only us and we choose the shutdown),
// death with us, the server user, and an environment free of PG* settings.
func prepare(cmd *exec.Cmd, dir string, su *serverUser) {
	cmd.Dir = filepath.Dir(dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if su != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: su.uid, Gid: su.gid, Groups: su.groups}
	}
	env := []string{"LC_ALL=C"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
}

// clearStaleLock removes a postmaster.pid left by a killed server. Postgres
// would refuse to start if the recorded PID now belongs to another process
// of its user, which is likely in a container.
func clearStaleLock(dir string) error {
	lock := filepath.Join(dir, "postmaster.pid")
	b, err := os.ReadFile(lock)
	if err != nil {
		return nil
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err == nil && pid > 0 && isPostgresIn(pid, dir) {
		return fmt.Errorf("postgres: a PostgreSQL server (pid %d) is already running on %s: stop it first", pid, dir)
	}
	if err := os.Remove(lock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("postgres: removing stale %s: %w", lock, err)
	}
	return nil
}

// isPostgresIn reports whether pid is a live postgres whose working
// directory is dir (postgres chdirs into its data directory).
func isPostgresIn(pid int, dir string) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist) // no /proc: assume the worst
	}
	// Format: pid (comm) state ...; comm may contain spaces.
	s := string(stat)
	lp, rp := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if lp < 0 || rp < lp || len(s) < rp+3 {
		return false
	}
	if comm, state := s[lp+1:rp], s[rp+2]; comm != "postgres" || state == 'Z' {
		return false
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		return true // cannot tell: a postgres is there, leave it alone
	}
	return cwd == dir
}

func (p *Postgres) start(ctx context.Context, binDir string, su *serverUser, opts PostgresOptions) error {
	args := []string{
		"-D", p.dir,
		"-p", strconv.Itoa(p.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=", // no socket files to clean up or collide
	}
	if opts.Fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	if opts.MaxConnections > 0 {
		args = append(args, "-c", "max_connections="+strconv.Itoa(opts.MaxConnections))
	}
	p.log = newTailWriter(opts.Log)
	p.cmd = exec.Command(filepath.Join(binDir, "postgres"), args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	// Backends inherit the output pipe; do not wait on them for ever.
	p.cmd.WaitDelay = 2 * time.Second
	prepare(p.cmd, p.dir, su)

	// Pdeathsig fires when the forking thread exits: fork from a fresh
	// goroutine, never from a caller that may be locked to its thread.
	errc := make(chan error, 1)
	go func() { errc <- p.cmd.Start() }()
	if err := <-errc; err != nil {
		return fmt.Errorf("postgres: starting server: %w", err)
	}
	p.exited = make(chan struct{})
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()

	if err := p.waitReady(ctx); err != nil {
		_ = p.Stop(context.Background())
		return err
	}
	return nil
}

func (p *Postgres) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	url := p.URL("postgres")
	for {
		attemptCtx, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(attemptCtx, url)
		if err == nil {
			err = conn.Ping(attemptCtx)
			conn.Close(attemptCtx)
		}
		cancelAttempt()
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("postgres: server on %s exited during start (%v)%s", p.dir, p.waitErr, p.log.tail())
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("postgres: server on %s not ready after %s: %v%s", p.dir, readyTimeout, err, p.log.tail())
			}
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// portTaken reports whether a failed start was a lost race for the port.
func (p *Postgres) portTaken() bool {
	out := p.log.tail()
	return strings.Contains(out, "could not bind") || strings.Contains(out, "could not create any TCP/IP sockets")
}

// URL returns a connection URL for database as the postgres role.
func (p *Postgres) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword("postgres", p.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// CreateDatabase creates database name unless it already exists.
func (p *Postgres) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: lost a race
		return nil
	}
	if err != nil {
		return fmt.Errorf("postgres: creating database %q: %w", name, err)
	}
	return nil
}

// Stop shuts the server down (fast shutdown: sessions are ended), killing it
// after 10 s or when ctx ends. Calling it again returns the first result.
func (p *Postgres) Stop(ctx context.Context) error {
	p.stopOnce.Do(func() { p.stopErr = p.stop(ctx) })
	return p.stopErr
}

func (p *Postgres) stop(ctx context.Context) error {
	select {
	case <-p.exited:
		if p.waitErr != nil {
			return fmt.Errorf("postgres: server had exited: %v%s", p.waitErr, p.log.tail())
		}
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.exited:
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	// Not yet reaped, so the group id still names only its processes.
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
	return fmt.Errorf("postgres: server on %s did not shut down in time and was killed", p.dir)
}

// tailWriter passes output on and keeps its end for error messages.
type tailWriter struct {
	mu   sync.Mutex
	next io.Writer
	buf  []byte
}

func newTailWriter(next io.Writer) *tailWriter { return &tailWriter{next: next} }

func (w *tailWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	w.buf = append(w.buf, b...)
	if len(w.buf) > 2*logTailBytes {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-logTailBytes:]...)
	}
	w.mu.Unlock()
	if w.next != nil {
		_, _ = w.next.Write(b) // a failing log must not stop the server
	}
	return len(b), nil
}

// tail returns the last lines written, indented under the error line.
func (w *tailWriter) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.buf
	if len(b) > logTailBytes {
		b = b[len(b)-logTailBytes:]
	}
	lines := strings.Split(strings.TrimSpace(string(bytes.ToValidUTF8(b, nil))), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	return "\n    " + strings.Join(lines, "\n    ")
}

package devstack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// clusterDir returns a cluster directory the server user can reach: as
// root, t.TempDir's private parent must be opened to it.
func clusterDir(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	if os.Geteuid() == 0 {
		if err := os.Chmod(filepath.Dir(tmp), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(tmp, "pg")
}

func startPostgres(t *testing.T, dir string) *Postgres {
	t.Helper()
	if _, err := FindPostgres(); err != nil {
		t.Skip(err)
	}
	begin := time.Now()
	pg, err := StartPostgres(t.Context(), PostgresOptions{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started in %v", time.Since(begin).Round(time.Millisecond))
	// Registered after t.TempDir's removal, so it runs before it.
	t.Cleanup(func() { _ = pg.Stop(context.Background()) })
	return pg
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// assertGone fails unless the server process and its whole group are gone.
func assertGone(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postgres pid %d still exists after Stop (kill: %v)", pid, err)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still has members after Stop (kill: %v)", pid, err)
	}
}

func TestPostgres_RestartKeepsData(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	pg := startPostgres(t, dir)
	ctx := t.Context()

	// Mixed case and a space prove the name is quoted; twice proves idempotence.
	const db = "Licence Desk"
	for range 2 {
		if err := pg.CreateDatabase(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	conn := connect(t, pg.URL(db))
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	pid := pg.cmd.Process.Pid
	if err := pg.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pg.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	assertGone(t, pid)

	pg = startPostgres(t, dir)
	var v string
	if err := connect(t, pg.URL(db)).QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "still here" {
		t.Fatalf("got %q after restart", v)
	}
	pid = pg.cmd.Process.Pid
	if err := pg.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	assertGone(t, pid)
}

func TestPostgres_StartsAfterCrash(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	pg := startPostgres(t, dir)

	_, err := StartPostgres(t.Context(), PostgresOptions{Dir: dir, Fast: true})
	if err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second server on the same dir: got %v, want an 'already running' error", err)
	}

	// A crash leaves postmaster.pid behind; a recycled PID in it must not
	// block the next start.
	pid := pg.cmd.Process.Pid
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-pg.exited
	lock := filepath.Join(dir, "postmaster.pid")
	b, err := os.ReadFile(lock)
	if err != nil {
		t.Fatalf("expected a stale lock file: %v", err)
	}
	_, rest, _ := strings.Cut(string(b), "\n")
	if err := os.WriteFile(lock, []byte(strconv.Itoa(os.Getpid())+"\n"+rest), 0o600); err != nil {
		t.Fatal(err)
	}

	pg = startPostgres(t, dir)
	if err := connect(t, pg.URL("postgres")).Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestStartPostgres_UnreachableDirWhenRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the server to the postgres user")
	}
	if _, err := FindPostgres(); err != nil {
		t.Skip(err)
	}
	private := t.TempDir() // its parent is 0700 root
	dir := filepath.Join(private, "pg")
	_, err := StartPostgres(t.Context(), PostgresOptions{Dir: dir})
	if err == nil {
		t.Fatal("started a cluster the postgres user cannot reach")
	}
	msg := err.Error()
	if !strings.Contains(msg, "cannot reach "+dir) || !strings.Contains(msg, "--data-dir") || strings.Contains(msg, "\n") {
		t.Errorf("want one clear line naming the dir and the way out, got %q", msg)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the cluster dir was created anyway")
	}
}

func TestFindPostgres_UsesInstallBehindSymlink(t *testing.T) {
	real, err := FindPostgres()
	if err != nil {
		t.Skip(err)
	}
	// A PATH holding only a link to initdb must yield the install's own dir.
	onPath := t.TempDir()
	if err := os.Symlink(filepath.Join(real, "initdb"), filepath.Join(onPath, "initdb")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", onPath)
	got, err := FindPostgres()
	if err != nil || got != real {
		t.Fatalf("FindPostgres() = %q, %v; want %q", got, err, real)
	}
}

func TestFindPostgres_IgnoresIncompleteInstallOnPath(t *testing.T) {
	real, err := FindPostgres()
	if err != nil {
		t.Skip(err)
	}
	// A wrapper script with no postgres beside it is not an install.
	onPath := t.TempDir()
	if err := os.WriteFile(filepath.Join(onPath, "initdb"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", onPath)
	postgresLibGlob = filepath.Dir(filepath.Dir(real)) + "/*/bin"
	t.Cleanup(func() { postgresLibGlob = "/usr/lib/postgresql/*/bin" })
	if got, err := FindPostgres(); err != nil || got != real {
		t.Fatalf("FindPostgres() = %q, %v; want %q", got, err, real)
	}
}

func TestFindPostgres_NotFoundIsOneClearLine(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	postgresLibGlob = filepath.Join(t.TempDir(), "*", "bin")
	t.Cleanup(func() { postgresLibGlob = "/usr/lib/postgresql/*/bin" })
	_, err := FindPostgres()
	if !errors.Is(err, ErrNoPostgres) {
		t.Fatalf("got %v, want ErrNoPostgres", err)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "DATABASE_URL") {
		t.Errorf("unclear message %q", msg)
	}
}

func TestFindPostgres_PrefersNewestVersion(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9.6", "15", "13"} {
		bin := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"initdb", "postgres"} {
			if err := os.WriteFile(filepath.Join(bin, name), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Setenv("PATH", t.TempDir())
	postgresLibGlob = filepath.Join(root, "*", "bin")
	t.Cleanup(func() { postgresLibGlob = "/usr/lib/postgresql/*/bin" })
	if got, err := FindPostgres(); err != nil || got != filepath.Join(root, "15", "bin") {
		t.Fatalf("FindPostgres() = %q, %v; want version 15", got, err)
	}
}

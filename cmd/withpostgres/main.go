// Command withpostgres runs a command with TEST_DATABASE_URL pointing at a
// throwaway PostgreSQL cluster, so that every test package of one
// `go test ./...` shares a single server:
//
//	go run ./cmd/withpostgres -- go test ./...
//
// When TEST_DATABASE_URL is already set it just runs the command.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"licensedesk/devstack"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("withpostgres", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: withpostgres -- command [args...]")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	// Caught from now on, so that a Ctrl-C during start-up still cleans up.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)

	env := os.Environ()
	if os.Getenv("TEST_DATABASE_URL") == "" {
		url, cleanup, err := startCluster(signals)
		defer cleanup()
		var interrupted signalError
		switch {
		case errors.As(err, &interrupted):
			return 128 + int(interrupted.sig)
		case err != nil:
			fmt.Fprintln(stderr, "withpostgres:", err)
			if errors.Is(err, devstack.ErrNoPostgres) {
				return 2
			}
			return 1
		}
		env = append(env, "TEST_DATABASE_URL="+url)
	}
	return runCommand(fs.Args(), env, signals, stderr)
}

// startCluster starts the cluster in a new temporary directory; cleanup
// stops it and removes the directory, whatever happened.
func startCluster(signals <-chan os.Signal) (url string, cleanup func(), err error) {
	tmp, err := os.MkdirTemp("", "withpostgres-")
	if err != nil {
		return "", func() {}, err
	}
	var pg *devstack.Postgres
	cleanup = func() {
		if pg != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := pg.Stop(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "withpostgres:", err)
			}
		}
		if err := os.RemoveAll(tmp); err != nil {
			fmt.Fprintln(os.Stderr, "withpostgres:", err)
		}
	}
	if os.Geteuid() == 0 {
		// The server runs as the postgres user, which must reach the cluster.
		if err := os.Chmod(tmp, 0o711); err != nil {
			return "", cleanup, err
		}
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		select {
		case sig := <-signals:
			cancel(signalError{sig.(syscall.Signal)})
		case <-ctx.Done():
		}
	}()
	pg, err = devstack.StartPostgres(ctx, devstack.PostgresOptions{Dir: filepath.Join(tmp, "data"), Fast: true})
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			return "", cleanup, cause
		}
		return "", cleanup, err
	}
	return pg.URL("postgres"), cleanup, nil
}

// signalError reports a start-up cut short by a signal.
type signalError struct{ sig syscall.Signal }

func (e signalError) Error() string { return "interrupted by " + e.sig.String() }

// runCommand runs argv with our standard streams, passes on SIGINT and
// SIGTERM, and returns its exit code the way a shell would.
func runCommand(argv, env []string, signals <-chan os.Signal, stderr io.Writer) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(stderr, "withpostgres:", err)
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return 127
		}
		return 126
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-signals:
				// From a terminal the child got it too; a second interrupt
				// is harmless to the commands this is meant for.
				_ = cmd.Process.Signal(sig)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	if err == nil {
		return 0
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		fmt.Fprintln(stderr, "withpostgres:", err)
		return 1
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return exitErr.ExitCode()
}

// Command licensedesk runs licensedesk: `dev` (everything on one machine),
// `serve` (HTTP), `worker` (Temporal worker), `migrate`, `slack` (send a
// signed slash command to a running server), `import` (send licences to a
// running server) and `gen` (make a book of licences to import).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"licensedesk/internal/clock"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError is a mistake in how the command was called (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// run is main without process globals, so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return runAt(ctx, clock.Real, args, getenv, stdout, stderr)
}

// runAt is run with the clock the services decide and render by: the wall
// clock, except in tests that run the system as if on another day.
func runAt(ctx context.Context, now clock.Clock, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || wantsHelp(args[:1]) {
		fmt.Fprint(stdout, usage())
		return 0
	}
	switch args[0] {
	case "serve", "worker", "migrate":
		if wantsHelp(args[1:]) {
			fmt.Fprint(stdout, subcommandHelp(args[0]))
			return 0
		}
	}
	var err error
	switch args[0] {
	case "dev":
		err = runDev(ctx, now, args[1:], getenv, stdout, stderr)
	case "serve":
		err = runServe(ctx, now, args[1:], getenv, stderr)
	case "worker":
		err = runWorker(ctx, now, args[1:], getenv, stderr)
	case "migrate":
		err = runMigrate(ctx, args[1:], getenv, stdout, stderr)
	case "slack":
		err = runSlack(ctx, args[1:], getenv, stdout)
	case "slack-manifest":
		err = runManifest(ctx, args[1:], getenv, stdout)
	case "import":
		err = runImport(ctx, args[1:], getenv, stdout, stderr)
	case "gen":
		err = runGen(ctx, args[1:], stdout, stderr)
	case "cluster":
		err = runCluster(ctx, args[1:], stdout)
	case "chaos":
		err = runChaos(ctx, args[1:], stdout)
	default:
		err = usageErrorf("unknown subcommand %q; run `licensedesk --help`", args[0])
	}
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "licensedesk %s: %v\n", args[0], err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

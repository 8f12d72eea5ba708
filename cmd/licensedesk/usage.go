package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Every subcommand's help is made from its flag set, so the top-level
// usage, `licensedesk <subcommand> -h` and the flags parsed never disagree.

// subcommand is one line of the top-level usage.
type subcommand struct {
	name, args, about string
	flags             func() *flag.FlagSet // nil: no flags
}

var subcommands = []subcommand{
	{"dev", "[flags]", "everything on this machine, with demo data", func() *flag.FlagSet { return devFlagSet(new(devFlags)) }},
	{"serve", "", "the HTTP server (Slack, links, webhooks, API)", nil},
	{"worker", "", "the Temporal worker", nil},
	{"migrate", "", "apply database migrations and exit", nil},
	{"slack", `[flags] "/license show SEN-1000001"`, "sign a slash command, send it to a running server, print the reply", func() *flag.FlagSet { return slackFlagSet(new(slackOptions)) }},
	{"slack-manifest", "[--socket-mode] > manifest.yaml", "print the Slack app manifest for PUBLIC_BASE_URL (https), made from the bot's commands", func() *flag.FlagSet { return manifestFlagSet(new(manifestOptions)) }},
	{"import", "[flags] FILE", "send NDJSON licences (FILE, - for stdin) to a running server's import, print what it did", func() *flag.FlagSet { return importFlagSet(new(importOptions)) }},
	{"gen", "--licenses N [--seed S] > book.ndjson", "write a realistic book of N licences as NDJSON", func() *flag.FlagSet { return genFlagSet(new(genOptions)) }},
	{"cluster", "[flags]", "what deploy/ runs, as processes on this machine: PostgreSQL, Temporal, serves behind a proxy, workers", func() *flag.FlagSet { return clusterFlagSet(new(clusterFlags)) }},
	{"chaos", "[flags]", "the cluster under real traffic and faults, then the books (last line: chaos: ...)", func() *flag.FlagSet { return chaosFlagSet(new(chaosFlags)) }},
}

// usage is the top-level help: each subcommand with its flags, then every
// environment setting.
func usage() string {
	var b strings.Builder
	b.WriteString("licensedesk — licence and account operations on Temporal\n\nUsage:\n")
	for _, c := range subcommands {
		b.WriteString(c.synopsis())
		if c.flags != nil {
			b.WriteString(flagsHelp(c.flags()))
		}
	}
	b.WriteString("\nEnvironment (serve, worker and migrate need some; dev fills in what it can):\n")
	b.WriteString(configHelp())
	return b.String()
}

func (c subcommand) synopsis() string {
	line := "  licensedesk " + c.name
	if c.args != "" {
		line += " " + c.args
	}
	if len(line) > 38 {
		return fmt.Sprintf("%s\n%-38s %s\n", line, "", c.about)
	}
	return fmt.Sprintf("%-38s %s\n", line, c.about)
}

// subcommandHelp is the help of one subcommand, for -h.
func subcommandHelp(name string) string {
	for _, c := range subcommands {
		if c.name != name {
			continue
		}
		s := "Usage:\n" + c.synopsis()
		if c.flags != nil {
			s += "\nFlags:\n" + flagsHelp(c.flags())
		}
		if c.name != "slack" && c.name != "import" && c.name != "gen" && c.name != "slack-manifest" {
			s += "\nEnvironment:\n" + configHelp()
		}
		return s
	}
	return usage()
}

// flagsHelp lists fs's flags, one a line, with their value and default.
func flagsHelp(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		name, about := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if name != "" {
			left += " " + name
		}
		fmt.Fprintf(&b, "      %-22s %s", left, about)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteByte('\n')
	})
	return b.String()
}

// parseFlags parses args with fs. With -h or --help it prints the
// subcommand's help to stdout and reports help, for the caller to stop
// without an error.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (help bool, err error) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, err := io.WriteString(stdout, subcommandHelp(fs.Name()))
			return true, err
		}
		return false, usageErrorf("%v (see licensedesk %s -h)", err, fs.Name())
	}
	return false, nil
}

// wantsHelp says whether args (after a subcommand without flags) ask for help.
func wantsHelp(args []string) bool {
	return len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help")
}

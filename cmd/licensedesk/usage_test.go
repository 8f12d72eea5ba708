package main

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
)

func runHelp(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), args, func(string) string { return "" }, &out, &errOut); code != 0 || errOut.Len() != 0 {
		t.Fatalf("%v: exit %d, stderr %q", args, code, errOut.String())
	}
	return out.String()
}

// flagNames lists the flags of a flag set as they are typed.
func flagNames(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) })
	return names
}

func TestHelp_SubcommandsListTheirFlags(t *testing.T) {
	slack := runHelp(t, "slack", "-h")
	for _, want := range append(flagNames(slackFlagSet(new(slackOptions))), `"/license show SEN-1000001"`, "SLACK_SIGNING_SECRET", "(default U0LOCALDEV)") {
		if !strings.Contains(slack, want) {
			t.Errorf("slack -h lacks %q:\n%s", want, slack)
		}
	}
	if got := runHelp(t, "slack", "--help"); got != slack {
		t.Errorf("slack --help differs from -h")
	}
	dev := runHelp(t, "dev", "-h") // and starts nothing
	for _, want := range append(flagNames(devFlagSet(new(devFlags))), "(default ./.licensedesk)", "DATABASE_URL") {
		if !strings.Contains(dev, want) {
			t.Errorf("dev -h lacks %q:\n%s", want, dev)
		}
	}
	for _, sub := range []string{"serve", "worker", "migrate"} {
		if got := runHelp(t, sub, "-h"); !strings.Contains(got, "licensedesk "+sub) || !strings.Contains(got, "PAYMENTS_SANDBOX") {
			t.Errorf("%s -h:\n%s", sub, got)
		}
	}
}

func TestHelp_TopLevelListsEveryFlag(t *testing.T) {
	for _, args := range [][]string{nil, {"-h"}, {"--help"}, {"help"}} {
		out := runHelp(t, args...)
		want := append(flagNames(devFlagSet(new(devFlags))), flagNames(slackFlagSet(new(slackOptions)))...)
		for _, c := range subcommands {
			want = append(want, "licensedesk "+c.name)
		}
		for _, w := range append(want, "STRIPE_SECRET_KEY", "TRUST_PROXY") {
			if !strings.Contains(out, w) {
				t.Errorf("%v: usage lacks %q:\n%s", args, w, out)
			}
		}
	}
}

func TestHelp_BadFlagPointsToHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"slack", "--bogus"}, func(string) string { return "" }, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "flag provided but not defined: -bogus (see licensedesk slack -h)") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

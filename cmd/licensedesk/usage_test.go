package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"licensedesk/bot"
	"licensedesk/config"
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

func readyFor(dataDir string, env map[string]string) readyInfo {
	cfg := config.Load(func(k string) string { return env[k] })
	cfg.TemporalUIURL, cfg.AdminAPIToken, cfg.SlackSigningSecret = "http://127.0.0.1:8233", "tok", "sec"
	return readyInfo{cfg: cfg, appURL: "http://127.0.0.1:8080", dataDir: dataDir, seeded: true, sandbox: true, took: time.Second}
}

func TestBanner_ListsOnlyWhatThisRunKeeps(t *testing.T) {
	def, _ := filepath.Abs(defaultDataDir)
	kept := banner(readyFor(def, nil))
	for _, want := range []string{"licensedesk is ready", "http://127.0.0.1:8080/dev/mail", "http://127.0.0.1:8080/dev/slack", "nobody is charged"} {
		if !strings.Contains(kept, want) {
			t.Errorf("banner lacks %q:\n%s", want, kept)
		}
	}
	configured := banner(readyFor(def, map[string]string{"SMTP_URL": "smtp+starttls://desk:hunter2@mail.example.com:587",
		"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CHANNEL": "C0ALERTS"}))
	for _, gone := range []string{"/dev/mail", "/dev/slack", "hunter2", "xoxb-1"} {
		if strings.Contains(configured, gone) {
			t.Errorf("with SMTP and Slack configured, the banner shows %q:\n%s", gone, configured)
		}
	}
	for _, want := range []string{"sent through SMTP to mail.example.com:587", "posted to Slack", "C0ALERTS"} {
		if !strings.Contains(configured, want) {
			t.Errorf("banner lacks %q:\n%s", want, configured)
		}
	}
}

// TestBanner_TryLineWorksAsPrinted runs the banner's "Try:" command, with
// the default data dir and another one (with a space in its name), against
// a server that checks the signature with that dir's secret.
func TestBanner_TryLineWorksAsPrinted(t *testing.T) {
	def, _ := filepath.Abs(defaultDataDir)
	other := filepath.Join(t.TempDir(), "my data")
	for _, dir := range []string{def, other} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			got := make(chan string, 1)
			v := bot.Verifier{Secret: []byte("sec"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			srv := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- r.FormValue("text")
				_ = json.NewEncoder(w).Encode(bot.Reply{Text: "pong"})
			})))
			defer srv.Close()
			try := tryLine(t, banner(readyFor(dir, nil)))
			if dir == def {
				if strings.Contains(try, "--data-dir") {
					t.Fatalf("default data dir, yet: %s", try)
				}
				return // would need ./.licensedesk in the package dir; the other case runs it
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := saveDevState(dir, devState{HTTPURL: srv.URL, SlackSigningSecret: "sec"}); err != nil {
				t.Fatal(err)
			}
			args := shellWords(t, strings.TrimPrefix(try, "go run ./cmd/licensedesk "))
			var out, errOut bytes.Buffer
			if code := run(context.Background(), args, func(string) string { return "" }, &out, &errOut); code != 0 {
				t.Fatalf("%q: exit %d: %s", try, code, errOut.String())
			}
			if text := <-got; text != "show SEN-1000001" || !strings.Contains(out.String(), "pong") {
				t.Fatalf("server got %q, printed %q", text, out.String())
			}
		})
	}
}

func tryLine(t *testing.T, banner string) string {
	t.Helper()
	for _, l := range strings.Split(banner, "\n") {
		if rest, ok := strings.CutPrefix(l, "Try:  "); ok {
			return rest
		}
	}
	t.Fatalf("no Try: line in\n%s", banner)
	return ""
}

// shellWords splits a command line as a POSIX shell would, for the
// quoting the banner uses (single and double quotes, no escapes outside).
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case '\'', '"':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				t.Fatalf("unbalanced quote in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// L-7: the cluster is a test bench; it binds where others reach it only on
// purpose.
func TestCluster_RefusesAPublicAddressUnlessExposed(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		expose bool
		ok     bool
	}{
		{"127.0.0.1:8080", false, true},
		{"localhost:8080", false, true},
		{"[::1]:8080", false, true},
		{"0.0.0.0:8080", false, false},
		{":8080", false, false},
		{"192.0.2.10:8080", false, false},
		{"0.0.0.0:8080", true, true},
	} {
		err := checkClusterAddr(tc.addr, tc.expose)
		if (err == nil) != tc.ok {
			t.Errorf("--http %s --expose=%v: %v", tc.addr, tc.expose, err)
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"cluster", "--http", "0.0.0.0:0"}, func(string) string { return "" }, &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "--expose") {
		t.Errorf("cluster --http 0.0.0.0:0: exit %d, %s", code, errOut.String())
	}
}

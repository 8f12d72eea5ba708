package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"licensedesk/postgres"
)

type importOptions struct {
	serverURL, dataDir string
	update, asJSON     bool
}

func importFlagSet(o *importOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.BoolVar(&o.update, "update", false, "let lines change licences that exist (otherwise a line that differs is rejected)")
	fs.StringVar(&o.serverURL, "url", "", "server base `URL` (default: the dev server of --data-dir, else http://HTTP_ADDR)")
	fs.StringVar(&o.dataDir, "data-dir", defaultDataDir, "dev data `DIR` to read the API token and URL from; ADMIN_API_TOKEN wins")
	fs.BoolVar(&o.asJSON, "json", false, "print the server's answer as JSON (every rejected line) instead of a summary")
	return fs
}

// runImport sends an NDJSON file of licences (SPEC §9) to a running
// server's import route, showing progress on stderr, and prints what the
// server did. Rejected lines make it exit 1.
func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o importOptions
	fs := importFlagSet(&o)
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("give one FILE of NDJSON licences, or - for stdin (see licensedesk import -h)")
	}
	token, base, err := importServer(o, getenv)
	if err != nil {
		return err
	}

	in, size, err := openInput(fs.Arg(0))
	if err != nil {
		return err
	}
	defer in.Close()
	counter := &lineCounter{r: bufio.NewReaderSize(in, 1<<20)}
	target := strings.TrimRight(base, "/") + "/api/v1/licenses/import"
	if o.update {
		target += "?update=true"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, counter)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-ndjson")

	started := time.Now() //clock:wall measures the import
	stop := showProgress(stderr, counter, size, started)
	resp, err := http.DefaultClient.Do(req)
	stop()
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && ctx.Err() == nil {
			return fmt.Errorf("no licensedesk server answers at %s (start one with `go run ./cmd/licensedesk dev`): %v", base, ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if err := importRefused(resp, body, base, o.dataDir); err != nil {
		return err
	}
	var sum postgres.ImportSummary
	if err := json.Unmarshal(body, &sum); err != nil {
		return fmt.Errorf("unreadable answer: %w", err)
	}
	if o.asJSON {
		if _, err := stdout.Write(body); err != nil {
			return err
		}
	} else {
		printSummary(stdout, sum, counter.lines.Load(), time.Since(started)) //clock:wall measures the import
	}
	if n := rejectedTotal(sum); n > 0 {
		return fmt.Errorf("%d %s rejected", n, plural(n, "line was", "lines were"))
	}
	return nil
}

// importServer is the API token and the server to import into: from the
// environment, else from the dev data dir.
func importServer(o importOptions, getenv func(string) string) (token, base string, err error) {
	var state devState
	if b, err := os.ReadFile(filepath.Join(o.dataDir, devStateFile)); err == nil {
		_ = json.Unmarshal(b, &state)
	}
	token = getenv("ADMIN_API_TOKEN")
	if token == "" {
		token = state.AdminAPIToken
	}
	if token == "" {
		return "", "", usageErrorf("ADMIN_API_TOKEN is not set and no dev data dir at %s holds one", o.dataDir)
	}
	return token, serverBase(o.serverURL, state, getenv), nil
}

// importRefused says why the server refused an import, or nil when it
// answered 200.
func importRefused(resp *http.Response, body []byte, base, dataDir string) error {
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized:
		return fmt.Errorf("the server at %s refused the API token (ADMIN_API_TOKEN, or the one in %s)", base, dataDir)
	default:
		var e struct{ Error string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("the server answered %s: %s", resp.Status, e.Error)
		}
		return fmt.Errorf("the server answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
}

// serverBase is --url, else the dev server the data dir names, else HTTP_ADDR.
func serverBase(flagURL string, state devState, getenv func(string) string) string {
	if flagURL != "" {
		return flagURL
	}
	if state.HTTPURL != "" {
		return state.HTTPURL
	}
	addr := getenv("HTTP_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	return "http://" + addr
}

// openInput opens FILE ("-" for stdin) and says how big it is (0: unknown).
func openInput(name string) (io.ReadCloser, int64, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), 0, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return f, size, nil
}

// lineCounter counts the bytes and lines the request has taken from the file.
type lineCounter struct {
	r            io.Reader
	bytes, lines atomic.Int64
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.bytes.Add(int64(n))
	c.lines.Add(int64(bytes.Count(p[:n], []byte{'\n'})))
	return n, err
}

// showProgress reports how far the upload is until stop is called: a bar
// redrawn in place on a terminal, a plain line every 5 seconds otherwise
// (a log, a pipe). The server takes lines as fast as it imports them, so
// the upload's pace is the import's.
func showProgress(w io.Writer, c *lineCounter, size int64, started time.Time) (stop func()) {
	terminal := isTerminal(w)
	every := 5 * time.Second
	if terminal {
		every = 250 * time.Millisecond
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				if terminal {
					fmt.Fprintf(w, "\r%s\n", progressLine(c, size, time.Since(started), true)) //clock:wall measures the import
				}
				return
			case <-t.C:
				line := progressLine(c, size, time.Since(started), terminal) //clock:wall measures the import
				if terminal {
					fmt.Fprintf(w, "\r%s", line)
				} else {
					fmt.Fprintln(w, line)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

func progressLine(c *lineCounter, size int64, elapsed time.Duration, bar bool) string {
	lines, sent := c.lines.Load(), c.bytes.Load()
	rate := float64(lines) / max(elapsed.Seconds(), 0.001)
	if size <= 0 {
		return fmt.Sprintf("import: %s lines sent, %s lines/s, %s", thousands(lines), thousands(int64(rate)), elapsed.Round(time.Second))
	}
	frac := min(float64(sent)/float64(size), 1)
	eta := "…"
	if frac > 0.001 {
		eta = (time.Duration(float64(elapsed)/frac) - elapsed).Round(time.Second).String()
	}
	if !bar {
		return fmt.Sprintf("import: %s lines sent (%.0f %%), %s lines/s, ETA %s", thousands(lines), 100*frac, thousands(int64(rate)), eta)
	}
	const width = 30
	filled := int(frac * width)
	return fmt.Sprintf("[%s%s] %3.0f%%  %s lines  %s lines/s  ETA %-8s", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		100*frac, thousands(lines), thousands(int64(rate)), eta)
}

// isTerminal reports whether w is a terminal (a character device), without
// a dependency for it.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// rejectedTotal counts every rejected line, listed or not (a server before
// rejected_total listed them all).
func rejectedTotal(sum postgres.ImportSummary) int { return max(sum.RejectedTotal, len(sum.Rejected)) }

// maxListed rejected lines are listed in the summary; --json gives the
// first postgres.MaxRejections.
const maxListed = 20

func printSummary(w io.Writer, sum postgres.ImportSummary, lines int64, took time.Duration) {
	fmt.Fprintf(w, "created %s, updated %s, unchanged %s, rejected %s (%s lines in %s, %s lines/s)\n",
		thousands(int64(sum.Created)), thousands(int64(sum.Updated)), thousands(int64(sum.Unchanged)), thousands(int64(rejectedTotal(sum))),
		thousands(lines), took.Round(100*time.Millisecond), thousands(int64(float64(lines)/max(took.Seconds(), 0.001))))
	for i, r := range sum.Rejected {
		if i == maxListed {
			fmt.Fprintf(w, "  … and %d more (--json lists the first %d)\n", rejectedTotal(sum)-maxListed, postgres.MaxRejections)
			break
		}
		sen := ""
		if r.SEN != "" {
			sen = " " + r.SEN
		}
		fmt.Fprintf(w, "  line %d%s: %s\n", r.Line, sen, r.Error)
	}
}

// thousands renders n with thousands separators: 1,234,567.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

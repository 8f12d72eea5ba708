package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"licensedesk/postgres"
	"licensedesk/postgres/postgrestest"
	"licensedesk/web"
)

// apiServer is the HTTP surface with the provisioning API on a fresh demo
// database (no Temporal: nothing here invites anyone).
func apiServer(t *testing.T) (*httptest.Server, *postgres.DB) {
	t.Helper()
	db, now := postgrestest.NewDemo(t)
	srv := httptest.NewServer(web.New(web.Deps{Logger: slog.New(slog.DiscardHandler), Licenses: db, Provisioning: db,
		AdminAPIToken: "tok", Registry: prometheus.NewRegistry(), Clock: now}))
	t.Cleanup(srv.Close)
	return srv, db
}

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestImportCommand_SendsAFileAndPrintsTheSummary(t *testing.T) {
	srv, db := apiServer(t)
	dir := t.TempDir()
	book := filepath.Join(dir, "book.ndjson")
	if code, _, stderr := runCLI(t, nil, "gen", "--licenses", "300", "--seed", "5"); code != 0 {
		t.Fatalf("gen: %d %s", code, stderr)
	}
	code, ndjson, stderr := runCLI(t, nil, "gen", "--licenses", "300", "--seed", "5")
	if code != 0 || strings.Count(ndjson, "\n") != 300 || !strings.Contains(stderr, "300 licences") {
		t.Fatalf("gen: %d, %d lines, %s", code, strings.Count(ndjson, "\n"), stderr)
	}
	if err := os.WriteFile(book, []byte(ndjson), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ADMIN_API_TOKEN": "tok"}
	code, out, stderr := runCLI(t, env, "import", "--url", srv.URL, "--data-dir", dir, book)
	if code != 0 || !strings.Contains(out, "created 300, updated 0, unchanged 0, rejected 0") {
		t.Fatalf("import: %d\n%s\n%s", code, out, stderr)
	}
	var n int
	_ = db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM licenses`).Scan(&n)
	if n != 304 {
		t.Errorf("%d licences stored; want 304", n)
	}
	// Again: nothing changes.
	if code, out, _ := runCLI(t, env, "import", "--url", srv.URL, "--data-dir", dir, book); code != 0 || !strings.Contains(out, "unchanged 300") {
		t.Errorf("again: %d %s", code, out)
	}

	// Bad lines: listed, and the exit status says so.
	bad := filepath.Join(dir, "bad.ndjson")
	lines := strings.SplitN(ndjson, "\n", 3)
	_ = os.WriteFile(bad, []byte(strings.Replace(lines[0], `"price_minor":`, `"price_minor":1,"x":`, 1)+"\n{not json\n"+lines[1]+"\n"), 0o644)
	code, out, stderr = runCLI(t, env, "import", "--url", srv.URL, "--data-dir", dir, bad)
	if code != 1 || !strings.Contains(out, "rejected 2") || !strings.Contains(out, "line 1 SEN-") || !strings.Contains(out, "line 2:") ||
		!strings.Contains(stderr, "2 lines were rejected") {
		t.Errorf("bad lines: %d\n%s\n%s", code, out, stderr)
	}
	if code, out, _ := runCLI(t, env, "import", "--url", srv.URL, "--data-dir", dir, "--json", bad); code != 1 || !strings.HasPrefix(out, `{"created":0`) {
		t.Errorf("--json: %d %s", code, out)
	}
	// With --update a changed line changes the licence.
	changed := filepath.Join(dir, "changed.ndjson")
	_ = os.WriteFile(changed, []byte(strings.Replace(lines[1], `"status":"active"`, `"status":"cancelled"`, 1)+"\n"), 0o644)
	if code, out, _ := runCLI(t, env, "import", "--url", srv.URL, "--data-dir", dir, changed); code != 1 || !strings.Contains(out, "differs") {
		t.Errorf("a changed line without --update: %d %s", code, out)
	}
	if code, out, _ := runCLI(t, env, "import", "--update", "--url", srv.URL, "--data-dir", dir, changed); code != 0 || !strings.Contains(out, "updated 1") {
		t.Errorf("with --update: %d %s", code, out)
	}
}

func TestImportCommand_BadUse(t *testing.T) {
	srv, _ := apiServer(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "x.ndjson")
	_ = os.WriteFile(file, []byte("\n"), 0o644)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no file", map[string]string{"ADMIN_API_TOKEN": "tok"}, []string{"import", "--url", srv.URL}, 2, "FILE"},
		{"no token", nil, []string{"import", "--url", srv.URL, "--data-dir", dir, file}, 2, "ADMIN_API_TOKEN is not set"},
		{"a wrong token", map[string]string{"ADMIN_API_TOKEN": "nope"}, []string{"import", "--url", srv.URL, "--data-dir", dir, file}, 1, "refused the API token"},
		{"no server", map[string]string{"ADMIN_API_TOKEN": "tok"}, []string{"import", "--url", "http://127.0.0.1:1", "--data-dir", dir, file}, 1, "no licensedesk server answers"},
		{"a missing file", map[string]string{"ADMIN_API_TOKEN": "tok"}, []string{"import", "--url", srv.URL, filepath.Join(dir, "none")}, 1, "no such file"},
		{"gen without a count", nil, []string{"gen"}, 2, "--licenses"},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, tt.env, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, %q; want %d and %q", tt.name, code, stderr, tt.code, tt.want)
		}
	}
	// The token can come from a dev data dir, like `licensedesk slack`'s secret.
	_ = saveDevState(dir, devState{AdminAPIToken: "tok", HTTPURL: srv.URL})
	if code, out, stderr := runCLI(t, nil, "import", "--data-dir", dir, file); code != 0 || !strings.Contains(out, "created 0") {
		t.Errorf("token and URL from the data dir: %d %s %s", code, out, stderr)
	}
}

func TestProgressLine(t *testing.T) {
	c := &lineCounter{}
	c.bytes.Store(500)
	c.lines.Store(1000)
	got := progressLine(c, 1000, 10*time.Second, true)
	if !strings.Contains(got, "[###############...............]  50%") || !strings.Contains(got, "1,000 lines") ||
		!strings.Contains(got, "100 lines/s") || !strings.Contains(got, "ETA 10s") {
		t.Errorf("bar = %q", got)
	}
	if got := progressLine(c, 1000, 10*time.Second, false); got != "import: 1,000 lines sent (50 %), 100 lines/s, ETA 10s" {
		t.Errorf("plain = %q", got)
	}
	if got := progressLine(c, 0, 10*time.Second, true); !strings.Contains(got, "1,000 lines sent") || strings.Contains(got, "ETA") {
		t.Errorf("unknown size = %q", got)
	}
	if thousands(1234567) != "1,234,567" || thousands(-1000) != "-1,000" || thousands(12) != "12" {
		t.Error("thousands")
	}
}

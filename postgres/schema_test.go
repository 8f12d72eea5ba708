package postgres_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"licensedesk/devstack"
	"licensedesk/internal/pgtest"
	"licensedesk/postgres"
)

var update = flag.Bool("update", false, "rewrite postgres/schema.sql from a freshly migrated database")

const schemaFile = "schema.sql"

const schemaHeader = `-- The schema as the migrations in postgres/migrations leave it, for readers:
-- tables, indexes, views, functions and triggers, no data. Generated, do not
-- edit: change the schema with a new migration, then regenerate this file
-- with
--
--   go test ./postgres -run TestSchemaFile -update
--
-- (TestSchemaFile fails while it differs from what the migrations make).
`

// postgres/schema.sql is what the migrations make, so a reader sees the
// schema in one place; it is regenerated with -update.
func TestSchemaFile(t *testing.T) {
	dir, err := devstack.FindPostgres()
	if err != nil {
		t.Skip(err)
	}
	url := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(t.Context(), url); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), filepath.Join(dir, "pg_dump"), "--schema-only", "--no-owner", "--no-privileges",
		"--exclude-table=schema_version", "--dbname", url)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, stderr.String())
	}
	got := schemaHeader + normaliseDump(string(out))
	if *update {
		if err := os.WriteFile(schemaFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("%v: regenerate it with: go test ./postgres -run TestSchemaFile -update", err)
	}
	if string(want) != got {
		t.Errorf("postgres/schema.sql differs from what the migrations make (first difference: %s);\n"+
			"regenerate it with: go test ./postgres -run TestSchemaFile -update", firstDifference(string(want), got))
	}
}

// normaliseDump keeps what a reader needs of pg_dump's output and nothing
// that changes between runs or servers: no SET or set_config lines, no
// \restrict keys (random per run), no "-- Dumped from/by ... version"
// comments nor pg_dump's banner and "-- Name: ..." headers, and at most
// one blank line in a row.
func normaliseDump(dump string) string {
	var b strings.Builder
	blank := true // no blank lines at the top
	for line := range strings.Lines(dump) {
		line = strings.TrimRight(line, " \t\r\n")
		switch {
		case strings.HasPrefix(line, "SET "),
			strings.HasPrefix(line, "SELECT pg_catalog.set_config("),
			strings.HasPrefix(line, `\restrict`), strings.HasPrefix(line, `\unrestrict`),
			line == "--",
			strings.HasPrefix(line, "-- Dumped "),
			strings.HasPrefix(line, "-- PostgreSQL database dump"),
			strings.HasPrefix(line, "-- Name: "):
			continue
		case line == "":
			if blank {
				continue
			}
			blank = true
		default:
			blank = false
		}
		b.WriteString(line + "\n")
	}
	return "\n" + strings.TrimRight(b.String(), "\n") + "\n"
}

func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d is %q in the file, %q from the migrations", i+1, wl, gl)
		}
	}
	return "none"
}

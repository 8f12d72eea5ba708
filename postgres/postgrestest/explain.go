package postgrestest

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/postgres"
)

// Explained is the plan of one query the store runs.
type Explained struct {
	Name     string
	Plan     string   // EXPLAIN's text
	SeqScans []string // tables read in full (the import's staging tables left out)
}

// Explain shows the plans of the reads (postgres.Queries) for s, and of
// every statement of an import of lines with update on
// (postgres.ImportQueries), staged as the import stages them and with its
// settings, in a transaction that is rolled back: nothing is written.
// s.Today defaults to 2027-01-01, s.Now to the wall clock, s.SENs and
// s.Emails to those of lines.
func Explain(ctx context.Context, db *postgres.DB, s postgres.Samples, lines []postgres.ImportLine) ([]Explained, error) {
	if s.Today.IsZero() {
		s.Today = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if s.Now.IsZero() {
		s.Now = time.Now() //clock:wall a plan check needs only a timestamp
	}
	if s.SENs == nil && s.Emails == nil {
		for _, l := range lines {
			s.SENs = append(s.SENs, string(l.License.License.SEN))
			for _, c := range l.License.License.Contacts {
				s.Emails = append(s.Emails, string(c.Email))
			}
		}
	}
	out, err := explainAll(ctx, db.Pool(), postgres.Queries(), s)
	if err != nil {
		return out, err
	}
	err = db.StageImport(ctx, lines, func(tx pgx.Tx) error {
		staged, err := explainAll(ctx, tx, postgres.ImportQueries(), s)
		out = append(out, staged...)
		return err
	})
	return out, err
}

// ExplainCardExpiry shows the plans of the daily card-expiry run's
// statements for today (nothing is written: EXPLAIN without ANALYZE).
func ExplainCardExpiry(ctx context.Context, db *postgres.DB, today time.Time) ([]Explained, error) {
	var run []postgres.Query
	for _, q := range postgres.Queries() {
		if strings.HasPrefix(q.Name, "card expiry:") {
			run = append(run, q)
		}
	}
	return explainAll(ctx, db.Pool(), run, postgres.Samples{Today: today})
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func explainAll(ctx context.Context, q querier, queries []postgres.Query, s postgres.Samples) ([]Explained, error) {
	var out []Explained
	for _, query := range queries {
		e, err := explain(ctx, q, query.Name, query.SQL, query.Args(s)...)
		out = append(out, e)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func explain(ctx context.Context, q querier, name, sql string, args ...any) (Explained, error) {
	e := Explained{Name: name}
	var plan []map[string]any
	if err := q.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&plan); err != nil {
		return e, err
	}
	if len(plan) > 0 {
		if root, ok := plan[0]["Plan"].(map[string]any); ok {
			e.SeqScans = seqScans(root)
		}
	}
	rows, err := q.Query(ctx, "EXPLAIN "+sql, args...)
	if err != nil {
		return e, err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	e.Plan = strings.Join(lines, "\n")
	return e, err
}

// seqScans lists the tables a plan reads in full, but for the import's
// staging tables (they hold one batch).
func seqScans(node map[string]any) []string {
	var out []string
	if node["Node Type"] == "Seq Scan" {
		if rel, _ := node["Relation Name"].(string); !strings.HasPrefix(rel, "import_") {
			out = append(out, rel)
		}
	}
	children, _ := node["Plans"].([]any)
	for _, c := range children {
		if m, ok := c.(map[string]any); ok {
			out = append(out, seqScans(m)...)
		}
	}
	return out
}

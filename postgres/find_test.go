package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"licensedesk/internal/bookgen"
	"licensedesk/licensing"
	"licensedesk/postgres"
	"licensedesk/postgres/postgrestest"
)

func TestFind_ByEmailDomainAndSiteInPages(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	var lines []string
	for i := range 25 {
		lines = append(lines, line(fmt.Sprintf("SEN-30000%02d", i), func(r *licensing.LicenseRecord) {
			site := fmt.Sprintf("s%d.example.net", i%2)
			r.Site = &site
			if i%5 == 0 {
				r.Contacts[2].Email = "carol@acme.test" // a demo person, secondary here
			}
		}))
	}
	if sum := importLines(t, db, postgres.ImportOptions{}, lines...); sum.Created != 25 {
		t.Fatalf("import = %+v", sum)
	}
	all := func(q licensing.FindQuery, size int) ([]licensing.SEN, int) {
		var sens []licensing.SEN
		var total int
		req := postgres.PageRequest{Size: size}
		for pages := 0; ; pages++ {
			p, err := db.FindLicenses(ctx, q, req)
			if err != nil {
				t.Fatal(err)
			}
			if pages > 0 && p.Total != total {
				t.Errorf("total changed between pages: %d, %d", total, p.Total)
			}
			total = p.Total
			for _, l := range p.Licenses {
				sens = append(sens, l.License.SEN)
			}
			if len(p.Licenses) > size {
				t.Fatalf("page of %d; size %d", len(p.Licenses), size)
			}
			if p.Next == "" {
				return sens, total
			}
			req.After = p.Next
		}
	}
	tests := []struct {
		q     licensing.FindQuery
		first licensing.SEN
		n     int
	}{
		{licensing.FindQuery{By: licensing.FindByEmail, Value: "a@acme.test"}, "SEN-3000000", 25},
		{licensing.FindQuery{By: licensing.FindByEmail, Value: "carol@acme.test"}, "SEN-1000001", 6}, // site admin of the demo, secondary of 5
		{licensing.FindQuery{By: licensing.FindByDomain, Value: "acme.test"}, "SEN-1000001", 26},
		{licensing.FindQuery{By: licensing.FindBySite, Value: "s1.example.net"}, "SEN-3000001", 12},
		{licensing.FindQuery{By: licensing.FindByEmail, Value: "nobody@acme.test"}, "", 0},
	}
	for _, tt := range tests {
		sens, total := all(tt.q, 10)
		if len(sens) != tt.n || total != tt.n || tt.n > 0 && sens[0] != tt.first || !slices.IsSorted(sens) || len(slices.Compact(slices.Clone(sens))) != len(sens) {
			t.Errorf("%s %s: %d licences (total %d) %v; want %d from %s, sorted, each once", tt.q.By, tt.q.Value, len(sens), total, sens, tt.n, tt.first)
		}
	}

	acc := account(t, db, "carol@acme.test")
	p, err := db.AccountLicensesPage(ctx, acc.ID, postgres.PageRequest{Size: 4})
	if err != nil || len(p.Licenses) != 4 || p.Total != 6 || p.Next != p.Licenses[3].License.SEN {
		t.Fatalf("carol's first page = %d licences, total %d, next %q, %v", len(p.Licenses), p.Total, p.Next, err)
	}
	from, err := db.AccountLicensesPage(ctx, acc.ID, postgres.PageRequest{From: p.Licenses[2].License.SEN, Size: 4})
	if err != nil || from.Licenses[0].License.SEN != p.Licenses[2].License.SEN || len(from.Licenses) != 4 {
		t.Errorf("page from %s = %v, %v", p.Licenses[2].License.SEN, from.Licenses, err)
	}
}

// Every query this issue added reads through an index: no sequential scan
// of a table that grows with the book. At 20k licences (a CI-sized book),
// with fresh statistics, the planner has every reason to scan if it could;
// the plans at 1 M are in the README (LICENSEDESK_BENCH).
func TestFind_PlansUseIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 20k licences")
	}
	ctx := context.Background()
	db := newDB(t)
	const n = 20000
	st := postgrestest.LoadBook(t, db, n)
	person := account(t, db, licensing.Email(st.Emails[1]))
	// An import batch of 1 % of the book (10k lines at 1 M): half new
	// licences, half changes to existing ones.
	var lines []postgres.ImportLine
	_ = bookgen.Generate(bookgen.Options{Licenses: n + n/200, Seed: 11, Start: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}, func(r licensing.LicenseRecord) bool {
		i := len(lines)
		if i >= n/100 {
			return false
		}
		if i%2 == 0 {
			*r.SEN = bookgen.SEN(n + i)
		} else {
			r.Contacts = r.Contacts[:2]
		}
		l, err := licensing.ParseLicenseRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, postgres.ImportLine{Line: i + 1, SEN: *r.SEN, License: l})
		return true
	})
	var licID int64
	if err := db.Pool().QueryRow(ctx, `SELECT id FROM licenses WHERE sen = $1`, st.SENs[len(st.SENs)/2]).Scan(&licID); err != nil {
		t.Fatal(err)
	}
	var invoice string
	if err := db.Pool().QueryRow(ctx, `SELECT number FROM invoices ORDER BY id DESC LIMIT 1`).Scan(&invoice); err != nil {
		t.Fatal(err)
	}
	plans, err := postgrestest.Explain(ctx, db, postgres.Samples{SEN: licensing.SEN(st.SENs[len(st.SENs)/2]), Email: person.Email, Invoice: invoice,
		Domain: st.Domains[1], Site: st.Sites[1], AccountID: person.ID, LicenseID: licID, Chunk: 20}, lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) < 20 {
		t.Errorf("%d plans", len(plans))
	}
	for _, p := range plans {
		t.Logf("EXPLAIN %s:\n%s", p.Name, p.Plan)
		if len(p.SeqScans) > 0 {
			t.Errorf("%s reads %v in full", p.Name, p.SeqScans)
		}
	}
}

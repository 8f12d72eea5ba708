package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"licensedesk/accounts"
	"licensedesk/accounts/accountstest"
	"licensedesk/bot"
	"licensedesk/devstack"
	"licensedesk/internal/bookgen"
	"licensedesk/licensing"
	"licensedesk/passwords"
	"licensedesk/postgres"
	"licensedesk/postgres/postgrestest"
	"licensedesk/web"
)

// TestBench_Scale measures issue 11's figures in one run, on a durable
// PostgreSQL cluster of its own (as dev runs it):
//   - the import of a generated book of BENCH_LICENSES licences (1 M) over
//     HTTP with `licensedesk import`, against raw COPY of the same rows
//     into unindexed tables on the same server (the physical limit), and
//     the same file imported again (nothing changes);
//   - /license show and /license find (signed Slack commands over HTTP),
//     GET /api/v1/licenses/{sen} and the account page of the person with
//     500 licences: p50/p99 with the demo data (4 licences), then with the
//     book;
//   - PostgreSQL's size on disk per licence;
//   - the plan of every query the import and the look-ups run.
//
// LICENSEDESK_BENCH=1 go test ./cmd/licensedesk -run TestBench_Scale -v -timeout 2h
// (BENCH_LICENSES=100000 for a quicker look.)
func TestBench_Scale(t *testing.T) {
	if os.Getenv("LICENSEDESK_BENCH") == "" {
		t.Skip("set LICENSEDESK_BENCH=1 to run the scale benchmark (about 15 minutes for 1 M licences)")
	}
	n := envInt("BENCH_LICENSES", 1_000_000)
	const requests = 1000
	ctx := context.Background()
	out := &benchReport{t: t}

	// A durable cluster, like dev's (pgtest's trades durability for speed).
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pg, err := devstack.StartPostgres(ctx, devstack.PostgresOptions{Dir: filepath.Join(dir, "pg")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop(context.Background()) })
	if err := pg.CreateDatabase(ctx, "bench"); err != nil {
		t.Fatal(err)
	}
	dbURL := pg.URL("bench")
	if _, _, err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SeedDemo(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := newBenchServer(t, db)

	// 1. Look-ups with the demo data.
	demo := demoQueries(t, srv, srv.signIn(t, "alice@acme.test"))
	before := map[string]durations{}
	for _, q := range demo {
		before[q.name] = q.run(requests)
	}

	// 2. The book, and raw COPY of its rows.
	book := filepath.Join(dir, "book.ndjson")
	f, err := os.Create(book)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	st, err := bookgen.Write(f, bookgen.Options{Licenses: n, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	fi, _ := os.Stat(book)
	out.line("book: %s licences (%s cloud, %s monthly, %s billed on the 1st), %s contacts, %s site admins, %s people; %.0f MB of NDJSON, generated in %s",
		thousands(int64(st.Licenses)), thousands(int64(st.Cloud)), thousands(int64(st.Monthly)), thousands(int64(st.OnTheFirst)),
		thousands(int64(st.Contacts)), thousands(int64(st.SiteAdmins)), thousands(int64(st.Accounts)), float64(fi.Size())/1e6, time.Since(started).Round(time.Second))
	rawTook, rawRows := rawCopy(t, db, book)
	rawRate := float64(n) / rawTook.Seconds()
	out.line("raw COPY of the same rows (%s) into unindexed tables: %s, %s licences/s (%s rows/s)",
		thousands(int64(rawRows)), rawTook.Round(100*time.Millisecond), thousands(int64(rawRate)), thousands(int64(float64(rawRows)/rawTook.Seconds())))

	// 3. The import, as a person runs it.
	env := map[string]string{"ADMIN_API_TOKEN": benchToken}
	started = time.Now()
	code, stdout, stderr := runCLI(t, env, "import", "--url", srv.URL, "--data-dir", dir, book)
	took := time.Since(started)
	if code != 0 || !strings.Contains(stdout, fmt.Sprintf("created %s,", thousands(int64(n)))) {
		t.Fatalf("import: %d\n%s\n%s", code, stdout, stderr)
	}
	rate := float64(n) / took.Seconds()
	out.line("licensedesk import: %s, %s licences/s = %.1f %% of raw COPY (goals: ≥ 25 %%, ≤ 5 min)", took.Round(100*time.Millisecond), thousands(int64(rate)), 100*rate/rawRate)
	out.line("workflows started by the import: 0 (the server here has no Temporal client at all; the book has no \"invite\": true)")
	if err := postgrestest.AddBookActivity(ctx, db); err != nil {
		t.Fatal(err)
	}
	out.line("then a card for every cloud licence and a link for one licence in ten (a book in use; those two tables analyzed, as autovacuum would have); the look-ups below run on the statistics the import left, no manual ANALYZE")
	started = time.Now()
	code, stdout, _ = runCLI(t, env, "import", "--url", srv.URL, "--data-dir", dir, book)
	if code != 0 || !strings.Contains(stdout, fmt.Sprintf("unchanged %s,", thousands(int64(n)))) {
		t.Fatalf("import again: %d %s", code, stdout)
	}
	out.line("the same file again: %s, every line unchanged", time.Since(started).Round(100*time.Millisecond))

	// 4. Look-ups with the book.
	if _, err := db.Pool().Exec(ctx, `UPDATE accounts SET status = 'active', password_hash = $2 WHERE email = $1`, bookgen.HeavyEmail, mustHash(t)); err != nil {
		t.Fatal(err)
	}
	heavy := srv.signIn(t, bookgen.HeavyEmail)
	heavyPage, _ := db.AccountLicensesPage(ctx, accountIDOf(t, db, bookgen.HeavyEmail), postgres.PageRequest{Size: 400})
	deep := heavyPage.Next
	r := rand.New(rand.NewPCG(2, 3))
	sen := func() string { return bookgen.SEN(r.IntN(n)) }
	pickOf := func(list []string) func() string { return func() string { return list[r.IntN(len(list))] } }
	email, domain, site := pickOf(st.Emails), pickOf(st.Domains), pickOf(st.Sites)
	book4 := []benchQuery{
		{"/license show", func(int) { srv.slack(t, "show "+sen()) }},
		{"/license find <email>", func(int) { srv.slack(t, "find "+email()) }},
		{"/license find @domain", func(int) { srv.slack(t, "find @"+domain()) }},
		{"/license find <site>", func(int) { srv.slack(t, "find "+site()) }},
		{"GET /api/v1/licenses/{sen}", func(int) { srv.api(t, "/api/v1/licenses/"+sen()) }},
		{"GET /api/v1/licenses?email=", func(int) { srv.api(t, "/api/v1/licenses?email="+url.QueryEscape(email())) }},
	}
	// The demo data again, on a database of its own on the same server,
	// measured request by request in turn with the book's, so both see the
	// same load from everything else on the machine.
	if err := pg.CreateDatabase(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := postgres.Migrate(ctx, pg.URL("demo")); err != nil {
		t.Fatal(err)
	}
	demoDB, err := postgres.Open(ctx, pg.URL("demo"))
	if err != nil {
		t.Fatal(err)
	}
	defer demoDB.Close()
	if _, err := demoDB.SeedDemo(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	demoSrv := newBenchServer(t, demoDB)
	alongside := demoQueries(t, demoSrv, demoSrv.signIn(t, "alice@acme.test"))

	out.line("")
	out.line("p50 / p99 of %d requests each, one at a time over HTTP on loopback; \"before\" is the demo data in the bench database before the import, \"alongside\" the demo data in a second database of the same server, measured in turn with the book's requests.", requests)
	out.line("")
	out.line("| look-up | demo data before | demo data alongside | %s licences | p99 ÷ before | p99 ÷ alongside |", thousands(int64(n)))
	out.line("|---|---|---|---|---|---|")
	row := func(name string, b, a, d durations) {
		out.line("| %s | %v / %v | %v / %v | %v / %v | %.2f | %.2f |", name, b.p(50), b.p(99), a.p(50), a.p(99), d.p(50), d.p(99),
			float64(d.p(99))/float64(b.p(99)), float64(d.p(99))/float64(a.p(99)))
	}
	for i, q := range book4 {
		a, d := interleave(alongside[i], q, requests)
		row(q.name, before[q.name], a, d)
	}
	for _, q := range []struct {
		base int
		q    benchQuery
	}{
		{1, benchQuery{fmt.Sprintf("/license find %s (%d licences)", bookgen.HeavyEmail, st.HeavyLicences), func(int) { srv.slack(t, "find "+bookgen.HeavyEmail) }}},
		{2, benchQuery{fmt.Sprintf("/license find @%s (the largest customer, %d licences)", st.LargestDomain, st.LargestDomainLicences), func(int) { srv.slack(t, "find @"+st.LargestDomain) }}},
		{6, benchQuery{fmt.Sprintf("account page of %s (%d licences), first page", bookgen.HeavyEmail, st.HeavyLicences), func(int) { srv.account(t, heavy, "/account") }}},
		{6, benchQuery{"the same, a page 400 licences in", func(int) { srv.account(t, heavy, "/account?after="+string(deep)) }}},
	} {
		a, d := interleave(alongside[q.base], q.q, requests/2)
		row(q.q.name, before[alongside[q.base].name], a, d)
	}
	out.line("")

	// History of a busy licence among a million (the import wrote one event
	// per licence): 1,000 more events of its own.
	busy := licensing.SEN(bookgen.SEN(n / 3))
	if _, err := db.Pool().Exec(ctx, `
		INSERT INTO audit_log (actor_kind, actor, action, license_id, detail)
		SELECT 'slack', 'UBENCH', 'link.resend', (SELECT id FROM licenses WHERE sen = $1), jsonb_build_object('email', 'x' || i || '@bench.test')
		FROM generate_series(1, 1000) i`, string(busy)); err != nil {
		t.Fatal(err)
	}
	var events int64
	_ = db.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&events)
	for _, q := range []benchQuery{
		{fmt.Sprintf("/license history %s (1,001 events of %s)", busy, thousands(events)), func(int) { srv.slackWant(t, "history "+string(busy), "History of") }},
		{"GET /api/v1/licenses/{sen}/history, its first page of 50", func(int) { srv.apiWant(t, "/api/v1/licenses/"+string(busy)+"/history", `"events"`) }},
	} {
		d := q.run(requests / 2)
		out.line("%s: p50 %v, p99 %v (goal p99 ≤ 20 ms)", q.name, d.p(50), d.p(99))
	}
	out.line("")

	// 5. Size on disk, once autovacuum would have cleaned up after the
	// import (the primary-check queue's dead rows, the tables' statistics).
	if _, err := db.Pool().Exec(ctx, `VACUUM ANALYZE`); err != nil {
		t.Fatal(err)
	}
	var size int64
	_ = db.Pool().QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&size)
	out.line("PostgreSQL size on disk: %.0f MB, %.0f bytes per licence (with its contacts, site admins, accounts, history row, card and indexes)", float64(size)/1e6, float64(size)/float64(n))
	rows, err := db.Pool().Query(ctx, `
		SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
		WHERE s.nspname = 'public' AND c.relkind = 'r' ORDER BY 2 DESC LIMIT 8`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var bytes int64
		_ = rows.Scan(&name, &bytes)
		out.line("  %-18s %6.0f MB (%.0f bytes per licence)", name, float64(bytes)/1e6, float64(bytes)/float64(n))
	}
	rows.Close()

	// 6. Plans at this size.
	plans, err := postgrestest.Explain(ctx, db, postgres.Samples{SEN: licensing.SEN(bookgen.SEN(n / 2)), Email: bookgen.HeavyEmail,
		Domain: st.LargestDomain, Site: st.Sites[0], AccountID: accountIDOf(t, db, bookgen.HeavyEmail), LicenseID: licenseIDOf(t, db, busy),
		Invoice: lastInvoice(t, db)}, explainBatch(n))
	if err != nil {
		t.Fatal(err)
	}
	out.line("")
	for _, p := range plans {
		mark := "no table read in full"
		if len(p.SeqScans) > 0 {
			mark = fmt.Sprintf("SEQUENTIAL SCAN of %v", p.SeqScans)
		}
		out.line("EXPLAIN %s (%s):\n%s\n", p.Name, mark, shorten(p.Plan))
	}
	out.flush()
}

// demoQueries are the look-ups of the demo data through srv, in the order
// of the book's (alice's account page last).
func demoQueries(t *testing.T, srv *benchServer, alice string) []benchQuery {
	return []benchQuery{
		{"/license show", func(int) { srv.slack(t, "show SEN-1000001") }},
		{"/license find <email>", func(int) { srv.slack(t, "find alice@acme.test") }},
		{"/license find @domain", func(int) { srv.slack(t, "find @acme.test") }},
		{"/license find <site>", func(int) { srv.slack(t, "find acme.example.net") }},
		{"GET /api/v1/licenses/{sen}", func(int) { srv.api(t, "/api/v1/licenses/SEN-1000001") }},
		{"GET /api/v1/licenses?email=", func(int) { srv.api(t, "/api/v1/licenses?email=alice@acme.test") }},
		{"account page (alice, 1 licence)", func(int) { srv.account(t, alice, "/account") }},
	}
}

// interleave times a and b in turn, n requests each, after a warm-up.
func interleave(a, b benchQuery, n int) (durations, durations) {
	for i := range n / 10 {
		a.f(i)
		b.f(i)
	}
	da, db := make(durations, n), make(durations, n)
	for i := range n {
		start := time.Now()
		a.f(i)
		da[i] = time.Since(start)
		start = time.Now()
		b.f(i)
		db[i] = time.Since(start)
	}
	slices.Sort(da)
	slices.Sort(db)
	return da, db
}

// benchQuery is a look-up to time.
type benchQuery struct {
	name string
	f    func(i int)
}

func (q benchQuery) run(n int) durations {
	for i := range n / 10 { // warm up
		q.f(i)
	}
	i := 0
	return measure(n, func() { q.f(i); i++ })
}

type benchReport struct {
	t *testing.T
	b strings.Builder
}

func (r *benchReport) line(format string, args ...any) {
	fmt.Fprintf(&r.b, format+"\n", args...)
	r.t.Logf(format, args...)
}

// flush writes the report to BENCH_OUT, when set, for the README.
func (r *benchReport) flush() {
	if p := os.Getenv("BENCH_OUT"); p != "" {
		if err := os.WriteFile(p, []byte(r.b.String()), 0o644); err != nil {
			r.t.Error(err)
		}
	}
}

// shorten cuts the long literal lists EXPLAIN repeats (a batch's SENs).
func shorten(plan string) string {
	var out []string
	for _, l := range strings.Split(plan, "\n") {
		if i := strings.Index(l, "'{"); i >= 0 && len(l) > i+80 {
			if j := strings.Index(l[i:], "}'"); j > 0 {
				l = l[:i+60] + "…" + l[i+j:]
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

const benchToken = "bench-admin-token"

// benchServer is the HTTP surface the look-ups go through: the Slack
// commands (signed), the API and the account pages, on db.
type benchServer struct {
	*httptest.Server
	secret []byte
}

func newBenchServer(t *testing.T, db *postgres.DB) *benchServer {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	reg := bot.NewRegistry(bot.ParseAllow("*", "*"), nil, logger, bot.ShowCommand(db, db, 0), bot.FindCommand(finder{db}), bot.HistoryCommand(db, db, nil))
	secret := []byte("bench-signing-secret")
	v := bot.Verifier{Secret: secret, Now: time.Now, MaxAge: 5 * time.Minute, Logger: logger}
	ops := accountstest.New(db)
	svc, err := accounts.New(db, ops, accounts.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ops.Service = svc
	h := web.New(web.Deps{Logger: logger, Licenses: db, Provisioning: db, History: db, AdminAPIToken: benchToken, Registry: prometheus.NewRegistry(),
		SlackCommands: v.Middleware(bot.CommandsHandler(reg, logger)), Account: web.Account(svc, logger, false)})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &benchServer{Server: srv, secret: secret}
}

func (s *benchServer) slack(t *testing.T, text string) { s.slackWant(t, text, `"blocks"`) }

func (s *benchServer) slackWant(t *testing.T, text, want string) {
	body := url.Values{"command": {"/license"}, "text": {text}, "user_id": {"UBENCH"}, "channel_id": {"C1"}, "team_id": {"T1"}}.Encode()
	ts, sig := bot.Sign(s.secret, time.Now(), []byte(body))
	req, _ := http.NewRequest("POST", s.URL+"/slack/commands", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	s.expect(t, req, want)
}

func (s *benchServer) api(t *testing.T, path string) { s.apiWant(t, path, `"sen"`) }

func (s *benchServer) apiWant(t *testing.T, path, want string) {
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+benchToken)
	s.expect(t, req, want)
}

func licenseIDOf(t *testing.T, db *postgres.DB, sen licensing.SEN) int64 {
	t.Helper()
	var id int64
	if err := db.Pool().QueryRow(context.Background(), `SELECT id FROM licenses WHERE sen = $1`, string(sen)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (s *benchServer) account(t *testing.T, cookie, path string) {
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: cookie})
	s.expect(t, req, "SEN-")
}

func (s *benchServer) expect(t *testing.T, req *http.Request, want string) {
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), want) {
		t.Fatalf("%s %s: %d %.300s", req.Method, req.URL, res.StatusCode, b)
	}
}

// signIn signs email in (password: the demo one) and returns the cookie.
func (s *benchServer) signIn(t *testing.T, email string) string {
	t.Helper()
	jar := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := jar.Get(s.URL + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csrf := between(string(page), `name="csrf" value="`, `"`)
	req, _ := http.NewRequest("POST", s.URL+"/signin", strings.NewReader(url.Values{"email": {email}, "password": {postgres.DemoPassword}, "csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range res.Cookies() {
		req.AddCookie(c)
	}
	res, err = jar.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "session" {
			return c.Value
		}
	}
	t.Fatalf("sign in %s: %d, no session", email, res.StatusCode)
	return ""
}

func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(rest, to)
	return v
}

func mustHash(t *testing.T) string {
	h, err := passwords.Hash(postgres.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func accountIDOf(t *testing.T, db *postgres.DB, email string) int64 {
	a, err := db.AccountByEmail(context.Background(), licensing.Email(email))
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// rawCopy COPYs the rows the book's lines hold (licences, contacts, site
// admins, decoded beforehand) into tables without index or constraint on
// db's server, and drops them again: the time is the COPY alone.
func rawCopy(t *testing.T, db *postgres.DB, book string) (time.Duration, int) {
	t.Helper()
	ctx := context.Background()
	f, err := os.Open(book)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lic, con, adm [][]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		nl, _, err := licensing.DecodeLicense(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		l := nl.License
		var next *time.Time
		if !l.NextBillingDate.IsZero() {
			next = &l.NextBillingDate
		}
		lic = append(lic, []any{string(l.SEN), l.Product, string(l.Deployment), string(l.Cycle), string(l.Status), l.Site, l.PriceCents, l.Currency, next})
		for _, c := range l.Contacts {
			con = append(con, []any{string(l.SEN), string(c.Email), string(c.Role), c.Primary})
		}
		for _, a := range l.SiteAdmins {
			adm = append(adm, []any{string(l.SEN), string(a)})
		}
	}
	if _, err := db.Pool().Exec(ctx, `
		CREATE TABLE raw_licenses (sen text, product text, deployment text, billing_cycle text, status text, site text, price_cents bigint, currency text, next_billing_date date);
		CREATE TABLE raw_contacts (sen text, email text, role text, is_primary boolean);
		CREATE TABLE raw_site_admins (sen text, email text)`); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	for _, c := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"raw_licenses", []string{"sen", "product", "deployment", "billing_cycle", "status", "site", "price_cents", "currency", "next_billing_date"}, lic},
		{"raw_contacts", []string{"sen", "email", "role", "is_primary"}, con},
		{"raw_site_admins", []string{"sen", "email"}, adm},
	} {
		if _, err := db.Pool().CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(started)
	if _, err := db.Pool().Exec(ctx, `DROP TABLE raw_licenses, raw_contacts, raw_site_admins; CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	return took, len(lic) + len(con) + len(adm)
}

// explainBatch is an import batch of 10k lines (LookupChunk-sized look-ups
// included): half new licences, half changes to the book's.
func explainBatch(n int) []postgres.ImportLine {
	var lines []postgres.ImportLine
	bookgen.Generate(bookgen.Options{Licenses: 10000, Seed: 1}, func(r licensing.LicenseRecord) bool {
		i := len(lines)
		if i%2 == 0 {
			*r.SEN = bookgen.SEN(n + i)
		} else {
			r.Contacts = r.Contacts[:2]
		}
		l, err := licensing.ParseLicenseRecord(r)
		if err == nil {
			lines = append(lines, postgres.ImportLine{Line: i + 1, SEN: *r.SEN, License: l})
		}
		return true
	})
	return lines
}

// lastInvoice is the number of the newest invoice, for the plans.
func lastInvoice(t *testing.T, db *postgres.DB) string {
	t.Helper()
	var number string
	if err := db.Pool().QueryRow(context.Background(), `SELECT number FROM invoices ORDER BY id DESC LIMIT 1`).Scan(&number); err != nil {
		t.Fatal(err)
	}
	return number
}

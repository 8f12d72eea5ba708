package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"licensedesk/licensing"
	"licensedesk/postgres"
	"licensedesk/postgres/postgrestest"
	"licensedesk/web"
)

const apiToken = "test-admin-token"

// fakeInviter records the invitations the API starts.
type fakeInviter struct {
	mu   sync.Mutex
	sent []string
	err  error
}

func (f *fakeInviter) Invite(_ context.Context, sen licensing.SEN, email licensing.Email, roles []licensing.Role) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, fmt.Sprintf("%s %s %v", sen, email, roles))
	return nil
}

type apiServer struct {
	t   *testing.T
	db  *postgres.DB
	inv *fakeInviter
	url string
}

func newAPI(t *testing.T) *apiServer {
	t.Helper()
	db, now := postgrestest.NewDemo(t)
	inv := &fakeInviter{}
	h := web.New(web.Deps{Logger: slog.New(slog.DiscardHandler), Licenses: db, Provisioning: db, Invites: inv, Invoices: db,
		AdminAPIToken: apiToken, Registry: prometheus.NewRegistry(), Clock: now})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &apiServer{t: t, db: db, inv: inv, url: srv.URL}
}

// call sends a request with the token and returns the status and the body
// decoded as JSON (nil when it is not).
func (s *apiServer) call(method, path, body string) (int, map[string]any) {
	s.t.Helper()
	return s.callWith(apiToken, method, path, strings.NewReader(body))
}

func (s *apiServer) callWith(token, method, path string, body io.Reader) (int, map[string]any) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.url+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

const specLicence = `{"sen": "SEN-3000001", "product": "Jira Software", "deployment": "cloud",
 "billing_cycle": "monthly", "site": "acme.example.net",
 "price_minor": 1000, "currency": "USD", "next_billing_date": "2027-01-01",
 "status": "active",
 "contacts": [{"email": "a@acme.test", "role": "billing", "primary": true},
              {"email": "a@acme.test", "role": "technical", "primary": true},
              {"email": "b@acme.test", "role": "technical", "primary": false}],
 "site_admins": ["c@acme.test"], "invite": false}`

// countingReader records whether anything read the body.
type countingReader struct {
	mu   sync.Mutex
	read int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.read++
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = '{'
	return 1, io.EOF
}

func (c *countingReader) reads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read
}

// Every route refuses a missing or wrong token with 401, before reading
// the body (the client's body is never read), and stores nothing.
func TestAPI_EveryRouteNeedsTheToken(t *testing.T) {
	s := newAPI(t)
	routes := []struct{ method, path string }{
		{"POST", "/api/v1/licenses"},
		{"GET", "/api/v1/licenses?email=alice@acme.test"},
		{"GET", "/api/v1/licenses/SEN-1000001"},
		{"PATCH", "/api/v1/licenses/SEN-1000001"},
		{"PUT", "/api/v1/licenses/SEN-1000001/site-admins/x@acme.test"},
		{"DELETE", "/api/v1/licenses/SEN-1000001/site-admins/carol@acme.test"},
		{"POST", "/api/v1/licenses/import"},
	}
	for _, token := range []string{"", "wrong-token"} {
		for _, r := range routes {
			body := &countingReader{}
			// Content-Length makes the client send a body the server may read.
			req, _ := http.NewRequest(r.method, s.url+r.path, io.NopCloser(body))
			req.ContentLength = 1
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				// The server answered 401 and closed before taking the body.
				if !strings.Contains(err.Error(), "connection") {
					t.Fatal(err)
				}
				continue
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), `"error"`) {
				t.Errorf("%s %s with token %q: %d %s; want 401", r.method, r.path, token, res.StatusCode, b)
			}
		}
	}
	if code, _ := s.call("GET", "/api/v1/licenses/SEN-1000001", ""); code != 200 {
		t.Fatalf("with the token: %d", code)
	}
	// Nothing changed: carol is still a site admin, no licence was made.
	l, _ := s.db.License(context.Background(), "SEN-1000001")
	if len(l.SiteAdmins) != 1 {
		t.Errorf("site admins = %v", l.SiteAdmins)
	}
}

// The handler behind the bearer check is never reached, so the body is not
// read: checked on the handler alone, where reads are observable.
func TestAPI_ABadTokenReadsNothing(t *testing.T) {
	s := newAPI(t)
	h := web.New(web.Deps{Logger: slog.New(slog.DiscardHandler), Licenses: s.db, Provisioning: s.db,
		AdminAPIToken: apiToken, Registry: prometheus.NewRegistry()})
	for _, path := range []string{"/api/v1/licenses", "/api/v1/licenses/import"} {
		body := &countingReader{}
		req := httptest.NewRequest("POST", path, io.NopCloser(body))
		req.Header.Set("Authorization", "Bearer nope")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || body.reads() != 0 {
			t.Errorf("POST %s: %d after %d reads of the body; want 401 after none", path, rec.Code, body.reads())
		}
	}
}

func TestAPI_CreateIsIdempotentAndRefusesAnotherBody(t *testing.T) {
	s := newAPI(t)
	code, view := s.call("POST", "/api/v1/licenses", specLicence)
	if code != http.StatusCreated || view["sen"] != "SEN-3000001" || view["billing_cycle"] != "monthly" || view["site"] != "acme.example.net" {
		t.Fatalf("create: %d %v", code, view)
	}
	contacts, _ := view["contacts"].([]any)
	if len(contacts) != 3 || contacts[0].(map[string]any)["account_status"] != "pending" {
		t.Errorf("contacts = %v", contacts)
	}
	if code, again := s.call("POST", "/api/v1/licenses", specLicence); code != http.StatusOK || fmt.Sprint(again) != fmt.Sprint(view) {
		t.Errorf("same body again: %d %v", code, again)
	}
	other := strings.Replace(specLicence, `"price_minor": 1000`, `"price_minor": 2000`, 1)
	if code, body := s.call("POST", "/api/v1/licenses", other); code != http.StatusConflict || body["field"] != "price_minor" {
		t.Errorf("another body: %d %v; want 409 naming price_minor", code, body)
	}
	if code, got := s.call("GET", "/api/v1/licenses/SEN-3000001", ""); code != 200 || fmt.Sprint(got) != fmt.Sprint(view) {
		t.Errorf("after the refused body: %d %v", code, got)
	}
	if len(s.inv.sent) != 0 {
		t.Errorf("invited %v without invite", s.inv.sent)
	}
}

// Each bad input of issue 11 is a 400 naming the field, and nothing is stored.
func TestAPI_CreateRefusesBadInput(t *testing.T) {
	s := newAPI(t)
	change := func(from, to string) string {
		if !strings.Contains(specLicence, from) {
			t.Fatalf("%q is not in the example", from)
		}
		return strings.Replace(specLicence, from, to, 1)
	}
	tests := []struct {
		name, body, field string
	}{
		{"malformed JSON", `{"sen": "SEN-3000001", `, ""},
		{"unknown field", change(`"invite": false`, `"invite": false, "owner": "x"`), "owner"},
		{"bad SEN", change(`"SEN-3000001"`, `"3000001"`), "sen"},
		{"bad email", change(`"b@acme.test"`, `"b at acme"`), "contacts[2].email"},
		{"bad date", change(`"2027-01-01"`, `"2027-01-32"`), "next_billing_date"},
		{"bad currency", change(`"USD"`, `"DOLLAR"`), "currency"},
		{"bad cycle", change(`"monthly"`, `"quarterly"`), "billing_cycle"},
		{"a cloud licence without site", change(`"site": "acme.example.net",`, ``), "site"},
		{"a cloud licence without cycle", change(`"billing_cycle": "monthly",`, ``), "billing_cycle"},
		{"a server licence with a cycle", change(`"deployment": "cloud"`, `"deployment": "server"`), "billing_cycle"},
		{"no primary billing", change(`"role": "billing", "primary": true`, `"role": "billing", "primary": false`), "contacts"},
		{"two primary technical", change(`"role": "technical", "primary": false`, `"role": "technical", "primary": true`), "contacts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := s.call("POST", "/api/v1/licenses", tt.body)
			if code != http.StatusBadRequest || body["error"] == "" {
				t.Fatalf("%d %v; want 400", code, body)
			}
			field, has := body["field"]
			if !has || tt.field == "" && field != nil || tt.field != "" && field != tt.field {
				t.Errorf("field = %v (present %v); want %q", field, has, tt.field)
			}
			if code, _ := s.call("GET", "/api/v1/licenses/SEN-3000001", ""); code != http.StatusNotFound {
				t.Errorf("a refused body stored the licence (%d)", code)
			}
		})
	}
	var accounts int
	_ = s.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM accounts WHERE email LIKE '%@acme.test' AND status = 'pending'`).Scan(&accounts)
	if accounts != 0 {
		t.Errorf("%d pending accounts left by refused bodies", accounts)
	}
}

func TestAPI_CreateWithInviteStartsAnInvitationPerPendingPerson(t *testing.T) {
	s := newAPI(t)
	body := strings.Replace(specLicence, `"invite": false`, `"invite": true`, 1)
	s.inv.err = errors.New("temporal is down")
	if code, res := s.call("POST", "/api/v1/licenses", body); code != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(res["error"]), "again") {
		t.Fatalf("with Temporal down: %d %v; want 503 asking to send it again", code, res)
	}
	s.inv.err = nil
	if code, _ := s.call("POST", "/api/v1/licenses", body); code != http.StatusOK {
		t.Fatalf("sent again: %d; want 200 (stored the first time)", code)
	}
	want := "[SEN-3000001 a@acme.test [billing technical] SEN-3000001 b@acme.test [technical] SEN-3000001 c@acme.test []]"
	if got := fmt.Sprint(s.inv.sent); got != want {
		t.Errorf("invitations %s\nwant        %s", got, want)
	}
}

func TestAPI_Patch(t *testing.T) {
	s := newAPI(t)
	code, view := s.call("PATCH", "/api/v1/licenses/SEN-1000001", `{"next_billing_date": "2027-03-01", "price_minor": 1500}`)
	if code != 200 || view["next_billing_date"] != "2027-03-01" {
		t.Fatalf("renewal: %d %v", code, view)
	}
	if code, view := s.call("PATCH", "/api/v1/licenses/sen-1000001", `{"status": "cancelled"}`); code != 200 || view["status"] != "cancelled" {
		t.Errorf("cancel: %d %v", code, view)
	}
	if code, view := s.call("PATCH", "/api/v1/licenses/SEN-1000001", `{"status": "active"}`); code != 200 || view["status"] != "active" {
		t.Errorf("resume: %d %v", code, view)
	}
	before, _ := s.db.License(context.Background(), "SEN-1000003")
	tests := []struct {
		name, sen, body string
		status          int
		field           string
	}{
		{"a cycle change on a past-due licence", "SEN-1000003", `{"billing_cycle": "annual"}`, 409, "billing_cycle"},
		{"activating a past-due licence", "SEN-1000003", `{"status": "active"}`, 409, "status"},
		{"a patch that would leave it without a primary", "SEN-1000003", `{"contacts": [{"email": "gina@initech.test", "role": "billing", "primary": false}]}`, 400, "contacts"},
		{"a server licence with a cycle", "SEN-2000001", `{"billing_cycle": "monthly"}`, 400, "billing_cycle"},
		{"billing's status", "SEN-1000003", `{"status": "suspended"}`, 400, "status"},
		{"unknown field", "SEN-1000003", `{"colour": "red"}`, 400, "colour"},
		{"malformed", "SEN-1000003", `{"status": `, 400, ""},
		{"nothing to change", "SEN-1000003", `{}`, 400, ""},
		{"bad SEN", "SEN-1", `{"status": "cancelled"}`, 400, "sen"},
		{"unknown SEN", "SEN-9999999", `{"status": "cancelled"}`, 404, ""},
	}
	for _, tt := range tests {
		code, body := s.call("PATCH", "/api/v1/licenses/"+tt.sen, tt.body)
		if code != tt.status || tt.field != "" && body["field"] != tt.field {
			t.Errorf("%s: %d %v; want %d naming %q", tt.name, code, body, tt.status, tt.field)
		}
	}
	if after, _ := s.db.License(context.Background(), "SEN-1000003"); !reflect.DeepEqual(before, after) {
		t.Error("a refused PATCH changed SEN-1000003")
	}
}

func TestAPI_SiteAdmins(t *testing.T) {
	s := newAPI(t)
	for range 2 { // idempotent
		code, view := s.call("PUT", "/api/v1/licenses/SEN-1000002/site-admins/New.Admin@globex.test", "")
		if code != 200 || !strings.Contains(fmt.Sprint(view["site_admins"]), "new.admin@globex.test") {
			t.Fatalf("PUT: %d %v", code, view)
		}
	}
	for range 2 {
		code, view := s.call("DELETE", "/api/v1/licenses/SEN-1000002/site-admins/frank@globex.test", "")
		if code != 200 || strings.Contains(fmt.Sprint(view["site_admins"]), "frank") {
			t.Fatalf("DELETE: %d %v", code, view)
		}
	}
	if code, body := s.call("PUT", "/api/v1/licenses/SEN-1000002/site-admins/not-an-email", ""); code != 400 || body["field"] != "email" {
		t.Errorf("bad email: %d %v", code, body)
	}
	if code, _ := s.call("PUT", "/api/v1/licenses/SEN-2000001/site-admins/x@umbrella.test", ""); code != 409 {
		t.Errorf("a server licence: %d; want 409", code)
	}
	if code, _ := s.call("DELETE", "/api/v1/licenses/SEN-9999999/site-admins/x@umbrella.test", ""); code != 404 {
		t.Errorf("unknown SEN: %d; want 404", code)
	}
}

func TestAPI_Import(t *testing.T) {
	s := newAPI(t)
	licence := func(sen string) string {
		return strings.ReplaceAll(strings.Replace(specLicence, "SEN-3000001", sen, 1), "\n", "")
	}
	long := `{"sen": "SEN-3000009", "product": "` + strings.Repeat("x", 70<<10) + `"}`
	body := strings.Join([]string{
		licence("SEN-3000001"),
		"",
		licence("SEN-3000002") + "\r",
		`{"sen": "SEN-3000003", "product": `,
		strings.Replace(licence("SEN-3000004"), `"invite": false`, `"invite": false, "extra": 1`, 1),
		licence("SEN-3000001"),
		long,
		strings.Replace(licence("SEN-1000001"), "Jira Software", "Jira Software", 1),
		licence("SEN-3000005"),
	}, "\n")
	code, sum := s.call("POST", "/api/v1/licenses/import", body)
	if code != 200 || sum["created"] != 3.0 || sum["updated"] != 0.0 || sum["unchanged"] != 0.0 {
		t.Fatalf("import: %d %v", code, sum)
	}
	rejected, _ := sum["rejected"].([]any)
	var lines []string
	for _, r := range rejected {
		m := r.(map[string]any)
		lines = append(lines, fmt.Sprintf("%v:%v", m["line"], m["sen"]))
		if m["error"] == "" {
			t.Errorf("line %v rejected without a reason", m["line"])
		}
	}
	if got := strings.Join(lines, " "); got != "4: 5:SEN-3000004 6:SEN-3000001 7: 8:SEN-1000001" {
		t.Errorf("rejected %s", got)
	}
	if code, again := s.call("POST", "/api/v1/licenses/import", body); code != 200 || again["created"] != 0.0 || again["unchanged"] != 3.0 {
		t.Errorf("the same file again: %d %v", code, again)
	}
	changed := strings.Replace(licence("SEN-3000002"), `"price_minor": 1000`, `"price_minor": 1100`, 1)
	if code, sum := s.call("POST", "/api/v1/licenses/import", changed); code != 200 || len(sum["rejected"].([]any)) != 1 {
		t.Errorf("a change without update: %d %v", code, sum)
	}
	if code, sum := s.call("POST", "/api/v1/licenses/import?update=true", changed); code != 200 || sum["updated"] != 1.0 {
		t.Errorf("a change with update: %d %v", code, sum)
	}
	if code, body := s.call("POST", "/api/v1/licenses/import?update=maybe", changed); code != 400 || body["field"] != "update" {
		t.Errorf("?update=maybe: %d %v", code, body)
	}
	if code, sum := s.call("POST", "/api/v1/licenses/import", ""); code != 200 || sum["created"] != 0.0 || sum["rejected"] == nil {
		t.Errorf("an empty import: %d %v", code, sum)
	}
}

func TestAPI_List(t *testing.T) {
	s := newAPI(t)
	var lines []string
	for i := range 60 {
		lines = append(lines, strings.ReplaceAll(strings.Replace(specLicence, "SEN-3000001", fmt.Sprintf("SEN-40000%02d", i), 1), "\n", ""))
	}
	if code, sum := s.call("POST", "/api/v1/licenses/import", strings.Join(lines, "\n")); code != 200 || sum["created"] != 60.0 {
		t.Fatalf("import: %d %v", code, sum)
	}
	code, page := s.call("GET", "/api/v1/licenses?email=A@acme.test", "")
	if code != 200 || len(page["licenses"].([]any)) != 50 || page["next_cursor"] == nil {
		t.Fatalf("first page: %d, %d licences, next %v", code, len(page["licenses"].([]any)), page["next_cursor"])
	}
	code, page2 := s.call("GET", "/api/v1/licenses?email=a@acme.test&cursor="+page["next_cursor"].(string), "")
	if code != 200 || len(page2["licenses"].([]any)) != 10 || page2["next_cursor"] != nil {
		t.Fatalf("second page: %d %v", code, page2["next_cursor"])
	}
	if first := page2["licenses"].([]any)[0].(map[string]any)["sen"]; first != "SEN-4000050" {
		t.Errorf("second page starts at %v", first)
	}
	if code, page := s.call("GET", "/api/v1/licenses?domain=@globex.test", ""); code != 200 || len(page["licenses"].([]any)) != 1 {
		t.Errorf("by domain: %d %v", code, page)
	}
	if code, page := s.call("GET", "/api/v1/licenses?site=initech.example.net", ""); code != 200 || len(page["licenses"].([]any)) != 1 {
		t.Errorf("by site: %d %v", code, page)
	}
	if code, page := s.call("GET", "/api/v1/licenses?email=nobody@acme.test", ""); code != 200 || len(page["licenses"].([]any)) != 0 || page["next_cursor"] != nil {
		t.Errorf("nobody: %d %v", code, page)
	}
	for q, field := range map[string]string{
		"":                              "email",
		"?email=a@acme.test&site=x.net": "email",
		"?email=nope":                   "email",
		"?domain=nope":                  "domain",
		"?email=a@acme.test&cursor=!!!": "cursor",
		"?email=a@acme.test&cursor=eA":  "cursor",
	} {
		if code, body := s.call("GET", "/api/v1/licenses"+q, ""); code != 400 || body["field"] != field {
			t.Errorf("GET /api/v1/licenses%s: %d %v; want 400 naming %s", q, code, body, field)
		}
	}
}

// L-2: a body of bad lines costs a bounded answer and bounded memory, not
// one rejection per line (before: 500,000 lines of "x" made a 50 MiB
// answer and a heap 179 MiB larger).
func TestAPI_ImportOfBadLinesIsBounded(t *testing.T) {
	s := newAPI(t)
	body := bytes.Repeat([]byte("x\n"), 500_000)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
		}
	}()
	req, _ := http.NewRequest("POST", s.url+"/api/v1/licenses/import", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	close(stop)
	<-sampled
	var sum struct {
		Rejected      []map[string]any `json:"rejected"`
		RejectedTotal int              `json:"rejected_total"`
	}
	if err := json.Unmarshal(answer, &sum); err != nil || res.StatusCode != 200 {
		t.Fatalf("%d %v: %.200s", res.StatusCode, err, answer)
	}
	if len(sum.Rejected) != postgres.MaxRejections || sum.RejectedTotal != 500_000 {
		t.Errorf("%d rejections listed, %d in all; want %d and 500000", len(sum.Rejected), sum.RejectedTotal, postgres.MaxRejections)
	}
	if len(answer) > 256<<10 {
		t.Errorf("answer of %d KiB", len(answer)>>10)
	}
	if grew := int64(peak.Load()) - int64(before.HeapAlloc); grew > 64<<20 {
		t.Errorf("the heap grew by %d MiB for a 976 KiB body", grew>>20)
	}
}

// L-2: a body over the limit stops with 413 and says what went in.
func TestAPI_ImportOverTheLimitIs413(t *testing.T) {
	defer web.SetMaxImportBytes(4 << 10)()
	s := newAPI(t)
	var lines []string
	for i := range 40 {
		lines = append(lines, strings.ReplaceAll(strings.Replace(specLicence, "SEN-3000001", fmt.Sprintf("SEN-50000%02d", i), 1), "\n", ""))
	}
	code, body := s.call("POST", "/api/v1/licenses/import", strings.Join(lines, "\n"))
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(fmt.Sprint(body["error"]), "split the file") {
		t.Errorf("a body over the limit: %d %v", code, body)
	}
}

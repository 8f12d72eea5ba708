package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"licensedesk/accounts"
	"licensedesk/licensing"
	"licensedesk/web"
)

var acme = licensing.Brand{Name: "Acme Licensing", SupportEmail: "help@acme.test", SupportURL: "https://acme.test/help"}

// TestBrand_OnEveryCustomerPage (defect 8): BRAND_NAME is the header and
// the title, and the support contact is in every footer, error pages too.
func TestBrand_OnEveryCustomerPage(t *testing.T) {
	s := newSite(t, accounts.Options{}, web.WithBrand(acme))
	c := s.client()
	for path, status := range map[string]int{"/": 200, "/signin": 200, "/password/forgot": 200, "/password/reset/nope": 404, "/password/reset/a/b": 404} {
		p := c.get(path)
		wantStatus(t, p, status)
		wantText(t, p, "Acme Licensing", "help@acme.test", "Questions? To reach a person")
		if !strings.Contains(p.Body, `<title>`) || !strings.Contains(p.Body, ` · Acme Licensing</title>`) {
			t.Errorf("%s: title does not name the brand", path)
		}
		if strings.Contains(p.Body, "licensedesk</") || strings.Contains(p.Body, licensing.DefaultBrandName) {
			t.Errorf("%s still names another brand", path)
		}
		if !strings.Contains(p.Body, `href="mailto:help@acme.test"`) || !strings.Contains(p.Body, `href="https://acme.test/help"`) {
			t.Errorf("%s: no contact links", path)
		}
	}
	p := c.signIn("alice@acme.test", demoPassword)
	wantText(t, p, "Acme Licensing", "help@acme.test")
}

// TestHome_IsAPageThatLeadsToSignIn (defect 8): GET / is no longer a
// plain-text "Not found.": visitors get a page with Sign in; someone signed
// in goes to their account.
func TestHome_IsAPageThatLeadsToSignIn(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	p := c.get("/")
	wantStatus(t, p, http.StatusOK)
	wantText(t, p, "Manage your licences", "Sign in", licensing.DefaultBrandName)
	if !strings.Contains(p.Body, `<a class="btn btn-primary" href="/signin">Sign in</a>`) {
		t.Error("no Sign in button")
	}
	c.signIn("alice@acme.test", demoPassword)
	p = c.get("/")
	if p.Status != http.StatusSeeOther || p.Location != "/account" {
		t.Fatalf("signed in: %d %q, want 303 to /account", p.Status, p.Location)
	}
}

// TestNotFound_PeopleGetAPageMachinesText: an unknown path is a page with
// the way home; under the API it stays plain text.
func TestNotFound_PeopleGetAPageMachinesText(t *testing.T) {
	h := web.New(web.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(), Brand: acme})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/no/such/page", nil))
	if w.Code != 404 || !strings.Contains(w.Body.String(), "Page not found") || !strings.Contains(w.Body.String(), "Acme Licensing") ||
		!strings.Contains(w.Body.String(), `href="/"`) {
		t.Errorf("page: %d\n%s", w.Code, w.Body.String())
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v2/nothing", nil))
	if w.Code != 404 || strings.TrimSpace(w.Body.String()) != "Not found." {
		t.Errorf("API: %d %q", w.Code, w.Body.String())
	}
}

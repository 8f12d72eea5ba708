// Package web is licensedesk's HTTP surface: Slack endpoints, the JSON API,
// health checks, metrics and (in dev) the mail and Slack sinks. Every route is
// listed in routes(), so the whole surface reads in one place.
package web

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"licensedesk/internal/clock"
	"licensedesk/licensing"
	"licensedesk/links"
)

// LicenseReader reads the licence read model.
type LicenseReader interface {
	License(ctx context.Context, sen licensing.SEN) (licensing.License, error)
}

// Check is one readiness probe (database, Temporal...).
type Check struct {
	Name string
	Ping func(ctx context.Context) error
	// Reported checks are shown in /readyz but never make it fail: a peer
	// the process can serve without (Slack's socket) must not take the
	// customer pages out of the load balancer with it.
	Reported bool
}

// Deps are the server's collaborators. Nil handlers leave their routes out.
type Deps struct {
	Logger         *slog.Logger
	Licenses       LicenseReader
	Provisioning   Provisioning  // the provisioning API (SPEC §9)
	Invites        Inviter       // invitations of provisioned licences; nil: none are sent
	History        HistoryReader // GET /api/v1/licenses/{sen}/history
	Invoices       InvoiceReader // GET /api/v1/licenses/{sen}/invoices
	AdminAPIToken  string        // empty: the API answers 401 to everyone
	Ready          []Check
	Registry       *prometheus.Registry // also served at /metrics
	SlackCommands  http.Handler         // already signature-checked
	SlackActions   http.Handler         // already signature-checked
	SlackEvents    http.Handler         // the Events API; already signature-checked
	Links          LinkService          // emailed links
	PaymentWebhook http.Handler         // POST /webhooks/stripe, signature-checked inside
	Sandbox        http.Handler         // the payments sandbox's hosted card page
	Account        http.Handler         // sign-in, account page, password reset (web.Account); also GET /
	Sessions       SessionReader        // who is signed in, for link pages (the service behind Account)
	SecureCookies  bool                 // as given to Account
	Brand          licensing.Brand      // product name and support contact on every page
	FormTargets    []string             // other origins a form may lead to (the payment provider's card page)
	Dev            http.Handler         // /dev/ pages, dev mode only
	Clock          clock.Clock          // the pages' clock; nil: the wall clock
	Webhooks       *Webhooks            // the webhook endpoints API; nil: none
	// Codec is the Temporal payload codec server, mounted at /codec/ (on
	// the admin listener; dev mounts it here); nil: none.
	Codec http.Handler
	// AdminElsewhere: /metrics, /readyz and the codec are served by Admin on
	// a separate listener (ADMIN_HTTP_ADDR), so this one leaves them out.
	AdminElsewhere bool
}

// New returns the root handler.
func New(d Deps) http.Handler {
	mux := http.NewServeMux()
	routes(mux, d)
	return instrument(d.Registry, securityHeaders(mux, d.SecureCookies, d.FormTargets...))
}

// Admin is the private listener's handler (ADMIN_HTTP_ADDR): liveness,
// readiness, metrics and the codec server, none of which customers need.
func Admin(d Deps) http.Handler {
	mux := http.NewServeMux()
	adminRoutes(mux, d)
	mux.Handle("/", http.NotFoundHandler())
	return mux
}

func adminRoutes(mux *http.ServeMux, d Deps) {
	mux.Handle("GET /healthz", healthz())
	mux.Handle("GET /readyz", readyz(d.Ready, d.Logger))
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{Registry: d.Registry}))
	if d.Codec != nil {
		mux.Handle("/codec/", d.Codec)
	}
}

func routes(mux *http.ServeMux, d Deps) {
	if d.SlackCommands != nil {
		mux.Handle("POST /slack/commands", d.SlackCommands)
	}
	if d.SlackActions != nil {
		mux.Handle("POST /slack/interactions", d.SlackActions)
	}
	if d.SlackEvents != nil {
		mux.Handle("POST /slack/events", d.SlackEvents)
	}
	pages := []Option{WithBrand(d.Brand), WithClock(d.Clock)}
	if d.Sessions != nil {
		pages = append(pages, WithSessions(d.Sessions, d.SecureCookies))
	}
	if d.Links != nil {
		if d.Registry != nil {
			used := prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "licensedesk_link_redemptions_total", Help: "Emailed links pressed, by outcome.",
			}, []string{"outcome"})
			d.Registry.MustRegister(used)
			pages = append(pages, CountRedemptions(func(outcome string) { used.WithLabelValues(outcome).Inc() }))
		}
		lp := newLinkPages(d.Links, d.Logger, pages)
		mux.Handle("/l/", lp.handler())
		mux.Handle("GET "+links.CardSavedPath, private(http.HandlerFunc(lp.cardSaved)))
		mux.Handle("GET "+links.CardCancelledPath, private(http.HandlerFunc(lp.cardCancelled)))
		if _, ok := d.Links.(PaymentReturns); ok {
			mux.Handle("GET "+links.PaymentConfirmedPath, private(http.HandlerFunc(lp.paymentConfirmed)))
		}
	}
	if d.Account != nil {
		for _, p := range []string{"/{$}", "/signin", "/signout", "/account", "/account/", "/password/forgot", "/password/reset/"} {
			mux.Handle(p, d.Account)
		}
	}
	if d.PaymentWebhook != nil {
		mux.Handle("POST /webhooks/stripe", d.PaymentWebhook)
	}
	if d.Sandbox != nil {
		mux.Handle("/sandbox/", d.Sandbox)
	}
	if d.Licenses != nil {
		mux.Handle("GET /api/v1/licenses/{sen}", requireBearer(d.AdminAPIToken, licenseAPI(d.Licenses, d.Logger)))
	}
	if p := d.Provisioning; p != nil {
		api := func(h http.Handler) http.Handler { return requireBearer(d.AdminAPIToken, h) }
		mux.Handle("POST /api/v1/licenses", api(createAPI(p, d.Invites, d.Logger)))
		mux.Handle("GET /api/v1/licenses", api(listAPI(p, d.Logger)))
		mux.Handle("POST /api/v1/licenses/import", api(importAPI(p, d.Invites, d.Logger)))
		mux.Handle("PATCH /api/v1/licenses/{sen}", api(patchAPI(p, d.Logger)))
		mux.Handle("PUT /api/v1/licenses/{sen}/site-admins/{email}", api(siteAdminAPI(p, true, d.Logger)))
		mux.Handle("DELETE /api/v1/licenses/{sen}/site-admins/{email}", api(siteAdminAPI(p, false, d.Logger)))
	}
	if d.History != nil {
		mux.Handle("GET /api/v1/licenses/{sen}/history", requireBearer(d.AdminAPIToken, historyAPI(d.History, d.Logger)))
	}
	if d.Webhooks != nil {
		webhookRoutes(mux, d.AdminAPIToken, *d.Webhooks, d.Logger)
	}
	if d.Invoices != nil {
		mux.Handle("GET /api/v1/licenses/{sen}/invoices", requireBearer(d.AdminAPIToken, invoicesAPI(d.Invoices, d.Clock, d.Logger)))
	}
	if d.AdminElsewhere {
		mux.Handle("GET /healthz", healthz()) // liveness stays: it tells nothing
	} else {
		adminRoutes(mux, d)
	}
	if d.Dev != nil {
		mux.Handle("/dev/", d.Dev)
	}
	mux.Handle("/", notFound(d.Logger, pages))
}

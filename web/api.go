package web

import (
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"licensedesk/licensing"
)

// licenseJSON is the contract of GET /api/v1/licenses/{sen} (SPEC §5).
type licenseJSON struct {
	SEN             string                   `json:"sen"`
	Product         string                   `json:"product"`
	Deployment      string                   `json:"deployment"`
	BillingCycle    *string                  `json:"billing_cycle"`
	Status          string                   `json:"status"`
	NextBillingDate *string                  `json:"next_billing_date"`
	Site            *string                  `json:"site"`
	SiteAdmins      []string                 `json:"site_admins"`
	Contacts        []licensing.Contact      `json:"contacts"`
	PaymentMethod   *licensing.PaymentMethod `json:"payment_method"`
}

func toLicenseJSON(l licensing.License) licenseJSON {
	out := licenseJSON{
		SEN:        string(l.SEN),
		Product:    l.Product,
		Deployment: string(l.Deployment),
		Status:     string(l.Status),
		SiteAdmins: make([]string, 0, len(l.SiteAdmins)),
		Contacts:   l.Contacts,
	}
	if pm := l.PaymentMethod; pm != nil {
		// SPEC §5's four fields: who added the card is for people, not the contract.
		out.PaymentMethod = &licensing.PaymentMethod{Brand: pm.Brand, Last4: pm.Last4, ExpMonth: pm.ExpMonth, ExpYear: pm.ExpYear}
	}
	if l.Cycle != "" {
		c := string(l.Cycle)
		out.BillingCycle = &c
	}
	if !l.NextBillingDate.IsZero() {
		d := l.NextBillingDate.Format("2006-01-02")
		out.NextBillingDate = &d
	}
	if l.Site != "" {
		out.Site = &l.Site
	}
	for _, a := range l.SiteAdmins {
		out.SiteAdmins = append(out.SiteAdmins, string(a))
	}
	if out.Contacts == nil {
		out.Contacts = []licensing.Contact{}
	}
	return out
}

func licenseAPI(licenses LicenseReader, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sen, err := licensing.ParseSEN(r.PathValue("sen"))
		if err != nil {
			writeError(w, logger, r, licensing.FieldErrorf(licensing.Invalid, "sen", "%s", licensing.ErrorMessage(err)))
			return
		}
		l, err := licenses.License(r.Context(), sen)
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		writeJSON(w, http.StatusOK, toLicenseJSON(l))
	})
}

// requireBearer lets a request through only with "Authorization: Bearer
// <token>". An empty token disables the route rather than opening it.
func requireBearer(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if token == "" || !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="licensedesk"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "a valid bearer token (ADMIN_API_TOKEN) is required"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// statusOf maps a domain error code to an HTTP status.
func statusOf(code licensing.Code) int {
	switch code {
	case licensing.Invalid:
		return http.StatusBadRequest
	case licensing.NotFound:
		return http.StatusNotFound
	case licensing.Conflict:
		return http.StatusConflict
	case licensing.Forbidden:
		return http.StatusForbidden
	case licensing.FailedPrecondition:
		return http.StatusUnprocessableEntity
	case licensing.Gone:
		return http.StatusGone
	}
	return http.StatusInternalServerError
}

// writeError answers with the error's safe message and, when the error
// names one, the field at fault (SPEC §9: a 400 always has "field", null
// when the fault is the whole body); internals are logged.
func writeError(w http.ResponseWriter, logger *slog.Logger, r *http.Request, err error) {
	code := licensing.ErrorCode(err)
	if code == licensing.Internal {
		logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	status := statusOf(code)
	body := map[string]any{"error": licensing.ErrorMessage(err)}
	if f := licensing.ErrorField(err); f != "" {
		body["field"] = f
	} else if status == http.StatusBadRequest {
		body["field"] = nil
	}
	writeJSON(w, status, body)
}

// errorBody is an error answer that names no field.
type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

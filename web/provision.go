package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"licensedesk/licensing"
)

// The provisioning API (SPEC §9): create, change and import licences, add
// and remove site admins, find licences. Every route is behind the bearer
// token (routes.go), checked before the body is read.

// Provisioning stores what the API provisions (postgres.DB does).
type Provisioning interface {
	ProvisionLicense(ctx context.Context, n licensing.NewLicense, by licensing.Actor) (licensing.Provisioned, error)
	PatchLicense(ctx context.Context, sen licensing.SEN, p licensing.LicensePatch, by licensing.Actor) (licensing.License, error)
	AddSiteAdmin(ctx context.Context, sen licensing.SEN, email licensing.Email, by licensing.Actor) (licensing.License, error)
	RemoveSiteAdmin(ctx context.Context, sen licensing.SEN, email licensing.Email, by licensing.Actor) (licensing.License, error)
	Import(ctx context.Context, next func() (licensing.ImportLine, error), by licensing.Actor, opt licensing.ImportOptions) (licensing.ImportSummary, error)
	FindLicenses(ctx context.Context, q licensing.FindQuery, p licensing.PageRequest) (licensing.Page, error)
}

// Inviter mails a pending person of a provisioned licence the
// account-setup invitation; starting it twice for one person and licence
// mails once (temporalclient: the Invite workflow).
type Inviter interface {
	Invite(ctx context.Context, sen licensing.SEN, email licensing.Email, roles []licensing.Role) error
}

// apiActor is who the history names for every change made through the API.
var apiActor = licensing.Actor{Kind: "api", ID: "api"}

// Limits: one licence (a request body, a line of an import) is at most
// 64 KiB; an import has no limit but its lines'.
const (
	MaxLicenseBytes = 64 << 10
	apiPageSize     = 50
	// An import streams for minutes; the server's read and write timeouts
	// (for everything else) are replaced by a deadline that moves with
	// every line read, so a client that stops sending is still cut off.
	importIdle = 2 * time.Minute
)

// createAPI is POST /api/v1/licenses.
func createAPI(p Provisioning, inv Inviter, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readBody(w, r, logger)
		if !ok {
			return
		}
		n, _, err := licensing.DecodeLicense(body)
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		out, err := p.ProvisionLicense(r.Context(), n, apiActor)
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		if err := invite(r.Context(), inv, out.Invite); err != nil {
			logger.ErrorContext(r.Context(), "starting invitations failed", "sen", n.License.SEN, "err", err)
			writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: fmt.Sprintf("%s is stored, but its invitations could not be sent just now; send the same request again to send them", n.License.SEN)})
			return
		}
		status := http.StatusOK
		if out.Created {
			status = http.StatusCreated
		}
		writeJSON(w, status, toLicenseJSON(out.License))
	})
}

// patchAPI is PATCH /api/v1/licenses/{sen}.
func patchAPI(p Provisioning, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sen, err := licensing.ParseSEN(r.PathValue("sen"))
		if err != nil {
			writeError(w, logger, r, licensing.FieldErrorf(licensing.Invalid, "sen", "%s", licensing.ErrorMessage(err)))
			return
		}
		body, ok := readBody(w, r, logger)
		if !ok {
			return
		}
		patch, err := licensing.DecodePatch(body)
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		l, err := p.PatchLicense(r.Context(), sen, patch, apiActor)
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		writeJSON(w, http.StatusOK, toLicenseJSON(l))
	})
}

// siteAdminAPI is PUT (add) and DELETE (remove) /api/v1/licenses/{sen}/site-admins/{email}.
func siteAdminAPI(p Provisioning, add bool, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sen, err := licensing.ParseSEN(r.PathValue("sen"))
		if err != nil {
			writeError(w, logger, r, licensing.FieldErrorf(licensing.Invalid, "sen", "%s", licensing.ErrorMessage(err)))
			return
		}
		email, err := licensing.ParseEmail(r.PathValue("email"))
		if err != nil {
			writeError(w, logger, r, licensing.FieldErrorf(licensing.Invalid, "email", "%s", licensing.ErrorMessage(err)))
			return
		}
		change := p.RemoveSiteAdmin
		if add {
			change = p.AddSiteAdmin
		}
		l, err := change(r.Context(), sen, email, apiActor)
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		writeJSON(w, http.StatusOK, toLicenseJSON(l))
	})
}

// maxImportBytes bounds an import's body (a million licences are about
// 400 MiB of NDJSON; a var for tests); importAnswerTimeout is how long
// writing the answer may take once the body is read.
var maxImportBytes int64 = 1 << 30

const importAnswerTimeout = 2 * time.Minute

// importAPI is POST /api/v1/licenses/import: NDJSON in, the summary out.
// Blank lines are skipped; a line over MaxLicenseBytes is rejected (and
// the rest of it skipped) like any other bad line.
func importAPI(p Provisioning, inv Inviter, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		update := false
		if v := r.URL.Query().Get("update"); v != "" {
			var err error
			if update, err = strconv.ParseBool(v); err != nil {
				writeError(w, logger, r, licensing.FieldErrorf(licensing.Invalid, "update", "update is true or false, not %q", v))
				return
			}
		}
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Time{})
		_ = rc.SetReadDeadline(time.Now().Add(importIdle)) //clock:wall network deadline
		lines := newLineReader(http.MaxBytesReader(w, r.Body, maxImportBytes))
		next := func() (licensing.ImportLine, error) {
			for {
				line, tooLong, err := lines.next()
				if err != nil {
					return licensing.ImportLine{}, err
				}
				if lines.n%1000 == 0 {
					_ = rc.SetReadDeadline(time.Now().Add(importIdle)) //clock:wall network deadline
				}
				if tooLong {
					return licensing.ImportLine{Line: lines.n, Err: licensing.Errorf(licensing.Invalid, "the line is longer than %d KiB", MaxLicenseBytes>>10)}, nil
				}
				if len(bytes.TrimSpace(line)) == 0 {
					continue
				}
				n, sen, err := licensing.DecodeLicense(line)
				return licensing.ImportLine{Line: lines.n, SEN: sen, License: n, Err: err}, nil
			}
		}
		sum, err := p.Import(r.Context(), next, apiActor, licensing.ImportOptions{Update: update})
		// The body is read: the answer gets a deadline again, so a client
		// that never reads it does not hold the request for ever.
		_ = rc.SetWriteDeadline(time.Now().Add(importAnswerTimeout)) //clock:wall network deadline
		if tooBig := new(http.MaxBytesError); errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf(
				"the import is larger than %d MiB: lines before line %d are in (%d created, %d updated); split the file and send the rest", maxImportBytes>>20, lines.n, sum.Created, sum.Updated)})
			return
		}
		if err != nil {
			logger.ErrorContext(r.Context(), "import stopped", "lines", lines.n, "err", err)
			writeJSON(w, http.StatusInternalServerError, errorBody{Error: fmt.Sprintf(
				"the import stopped near line %d (%d created, %d updated so far, which stay); import the file again to go on: lines already in are unchanged", lines.n, sum.Created, sum.Updated)})
			return
		}
		if err := invite(r.Context(), inv, sum.Invitations); err != nil {
			logger.ErrorContext(r.Context(), "starting invitations failed", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "the licences are imported, but their invitations could not be sent just now; import the file again to send them"})
			return
		}
		writeJSON(w, http.StatusOK, sum)
	})
}

// lineReader reads lines of at most MaxLicenseBytes.
type lineReader struct {
	br *bufio.Reader
	n  int // lines read
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, MaxLicenseBytes+2)}
}

// next returns the next line without its end, whether it was too long (then
// it is empty and the rest of it was skipped), or io.EOF after the last.
// The line is valid until the next call.
func (l *lineReader) next() (line []byte, tooLong bool, err error) {
	line, err = l.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = l.br.ReadSlice('\n')
		}
		l.n++
		if errors.Is(err, io.EOF) {
			err = nil
		}
		return nil, true, err
	}
	if errors.Is(err, io.EOF) {
		if len(line) == 0 {
			return nil, false, io.EOF
		}
		err = nil
	}
	if err != nil {
		return nil, false, err
	}
	l.n++
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if len(line) > MaxLicenseBytes {
		return nil, true, nil
	}
	return line, false, nil
}

// invite starts every invitation; the first failure stops it (starting
// them again is harmless).
func invite(ctx context.Context, inv Inviter, list []licensing.Invitation) error {
	if inv == nil {
		return nil
	}
	for _, i := range list {
		if err := inv.Invite(ctx, i.SEN, i.Email, i.Roles); err != nil {
			return err
		}
	}
	return nil
}

// listJSON is GET /api/v1/licenses's answer.
type listJSON struct {
	Licenses   []licenseJSON `json:"licenses"`
	NextCursor *string       `json:"next_cursor"`
}

// listAPI is GET /api/v1/licenses?email=…|domain=…|site=…&cursor=…, 50 a
// page in SEN order. The cursor is opaque to clients (it is the last SEN
// of the page, base64url).
func listAPI(p Provisioning, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var by []licensing.FindBy
		for _, k := range []licensing.FindBy{licensing.FindByEmail, licensing.FindByDomain, licensing.FindBySite} {
			if q.Has(string(k)) {
				by = append(by, k)
			}
		}
		if len(by) != 1 {
			writeError(w, logger, r, licensing.FieldErrorf(licensing.Invalid, "email", "give exactly one of email, domain or site to find licences by"))
			return
		}
		query, err := licensing.NewFindQuery(by[0], q.Get(string(by[0])))
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		var after licensing.SEN
		if c := q.Get("cursor"); c != "" {
			if after, err = decodeCursor(c); err != nil {
				writeError(w, logger, r, err)
				return
			}
		}
		page, err := p.FindLicenses(r.Context(), query, licensing.PageRequest{After: after, Size: apiPageSize})
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		out := listJSON{Licenses: make([]licenseJSON, 0, len(page.Licenses))}
		for _, l := range page.Licenses {
			out.Licenses = append(out.Licenses, toLicenseJSON(l.License))
		}
		if page.Next != "" {
			c := base64.RawURLEncoding.EncodeToString([]byte(page.Next))
			out.NextCursor = &c
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func decodeCursor(c string) (licensing.SEN, error) {
	bad := licensing.FieldErrorf(licensing.Invalid, "cursor", "the cursor is not one this API gave out; start again without it")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", bad
	}
	sen, err := licensing.ParseSEN(string(b))
	if err != nil || string(sen) != string(b) {
		return "", bad
	}
	return sen, nil
}

// readBody reads a request body of at most MaxLicenseBytes, answering the
// request itself when it cannot.
func readBody(w http.ResponseWriter, r *http.Request, logger *slog.Logger) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxLicenseBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf("the body is larger than %d KiB", MaxLicenseBytes>>10)})
		return nil, false
	case err != nil:
		writeError(w, logger, r, licensing.Errorf(licensing.Invalid, "the body could not be read"))
		return nil, false
	}
	return b, true
}

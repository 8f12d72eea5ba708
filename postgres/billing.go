package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// Invoice is an invoice with what collecting it needs.
type Invoice struct {
	Number          string
	SEN             licensing.SEN
	Cycle           licensing.Cycle
	LicenseStatus   licensing.Status
	DueDate         time.Time
	AmountCents     int64
	Currency        string
	Paid            bool
	Attempts        int    // charge attempts so far
	LastDeclineCode string // of the latest failed attempt
	Customer        string // provider customer id
	PaymentMethod   string // provider id of the default card, "" if none
	Card            string // "visa •••• 4242"
}

// Invoice returns the invoice with number, or NotFound.
func (db *DB) Invoice(ctx context.Context, number string) (Invoice, error) {
	var inv Invoice
	var status string
	err := db.pool.QueryRow(ctx, `
		SELECT i.number, l.sen, coalesce(l.billing_cycle, ''), l.status, i.due_date, i.amount_cents, i.currency, i.status = 'paid',
		       (SELECT count(*) FROM charge_attempts c WHERE c.invoice_id = i.id),
		       coalesce((SELECT c.decline_code FROM charge_attempts c WHERE c.invoice_id = i.id AND c.status = 'failed' ORDER BY c.attempt DESC LIMIT 1), ''),
		       coalesce(l.payment_customer, ''),
		       coalesce(p.provider_ref, ''), coalesce(p.brand || ' •••• ' || p.last4, '')
		FROM invoices i JOIN licenses l ON l.id = i.license_id
		LEFT JOIN payment_methods p ON p.license_id = l.id AND p.is_default
		WHERE i.number = $1`, number).Scan(&inv.Number, &inv.SEN, &inv.Cycle, &status, &inv.DueDate, &inv.AmountCents, &inv.Currency,
		&inv.Paid, &inv.Attempts, &inv.LastDeclineCode, &inv.Customer, &inv.PaymentMethod, &inv.Card)
	if errors.Is(err, pgx.ErrNoRows) {
		return Invoice{}, licensing.Errorf(licensing.NotFound, "No invoice %s found.", number)
	}
	inv.LicenseStatus = licensing.Status(status)
	return inv, err
}

// OpenInvoice returns the oldest unpaid invoice of a licence, or NotFound.
func (db *DB) OpenInvoice(ctx context.Context, sen licensing.SEN) (Invoice, error) {
	var number string
	err := db.pool.QueryRow(ctx, `
		SELECT i.number FROM invoices i JOIN licenses l ON l.id = i.license_id
		WHERE l.sen = $1 AND i.status = 'open' ORDER BY i.due_date LIMIT 1`, string(sen)).Scan(&number)
	if errors.Is(err, pgx.ErrNoRows) {
		return Invoice{}, licensing.Errorf(licensing.NotFound, "%s has no unpaid invoice.", sen)
	}
	if err != nil {
		return Invoice{}, err
	}
	return db.Invoice(ctx, number)
}

// Overdue returns a past-due or suspended licence's oldest unpaid invoice
// with its last failed charge (licensing.Overdue, SuspendOn left zero: the
// policy sets it), or nil when the licence owes nothing overdue.
func (db *DB) Overdue(ctx context.Context, sen licensing.SEN) (*licensing.Overdue, error) {
	var (
		o        licensing.Overdue
		status   string
		failedAt *time.Time
	)
	err := db.pool.QueryRow(ctx, `
		SELECT l.sen, l.product, l.status, i.number, i.amount_cents, i.currency, i.due_date,
		       a.finished_at, coalesce(a.decline_code, ''), coalesce(a.error, '')
		FROM licenses l JOIN invoices i ON i.license_id = l.id AND i.status = 'open'
		LEFT JOIN LATERAL (
			SELECT coalesce(c.finished_at, c.created_at) AS finished_at, c.decline_code, c.error FROM charge_attempts c
			WHERE c.invoice_id = i.id AND c.status = 'failed' ORDER BY c.attempt DESC LIMIT 1) a ON true
		WHERE l.sen = $1 AND l.status IN ('past_due', 'suspended')
		ORDER BY i.due_date LIMIT 1`, string(sen)).Scan(&o.SEN, &o.Product, &status, &o.Invoice, &o.AmountCents, &o.Currency, &o.DueDate,
		&failedAt, &o.DeclineCode, &o.Reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	o.Status = licensing.Status(status)
	if failedAt != nil {
		o.FailedAt = *failedAt
	}
	return &o, nil
}

// Payment is an invoice paid: its number, amount and when.
type Payment struct {
	Invoice     string
	AmountCents int64
	Currency    string
	PaidAt      time.Time
}

// PaidSince returns the latest invoice of a licence paid at or after since,
// or nil when none was.
func (db *DB) PaidSince(ctx context.Context, sen licensing.SEN, since time.Time) (*Payment, error) {
	var p Payment
	err := db.pool.QueryRow(ctx, `
		SELECT i.number, i.amount_cents, i.currency, i.paid_at FROM invoices i JOIN licenses l ON l.id = i.license_id
		WHERE l.sen = $1 AND i.status = 'paid' AND i.paid_at >= $2 ORDER BY i.paid_at DESC LIMIT 1`, string(sen), since).
		Scan(&p.Invoice, &p.AmountCents, &p.Currency, &p.PaidAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// InvoiceRef names an invoice and its licence.
type InvoiceRef struct {
	Number string
	SEN    licensing.SEN
}

// InvoiceDue invoices up to limit billable licences whose billing date is
// on or before today, in date order, and moves each one's date a cycle on,
// in one statement: rows it moved leave the due set, so calling it until
// it moves fewer than limit is a keyset walk over licenses_due that ends.
// A licence several cycles behind is invoiced once per call. Idempotent:
// an invoice for a period that exists is not made again (UNIQUE (license,
// period)), and a licence locked by someone else is left for the next
// call. Free licences (price 0) move on without an invoice.
func (db *DB) InvoiceDue(ctx context.Context, today time.Time, limit int, taxes licensing.TaxRules) (moved, invoiced int, err error) {
	var (
		taxCountries, taxNames []string
		taxRates               []int32
	)
	for _, t := range taxes {
		taxCountries, taxNames, taxRates = append(taxCountries, string(t.Country)), append(taxNames, t.Name), append(taxRates, int32(t.RateBP))
	}
	err = db.pool.QueryRow(ctx, `
		WITH due AS (
			SELECT id, sen, billing_cycle, price_cents, currency, next_billing_date AS period_start,
			       (next_billing_date + CASE billing_cycle WHEN 'annual' THEN interval '1 year' ELSE interval '1 month' END)::date AS period_end
			FROM licenses
			WHERE deployment = 'cloud' AND status <> 'cancelled' AND next_billing_date <= $1::date
			ORDER BY next_billing_date, id
			LIMIT $2
			FOR UPDATE SKIP LOCKED
		), taxed AS (
			-- The customer's country's tax rule, else the "*" rule, else none
			-- (licensing.TaxRules.For); the tax is added to the price, rounded
			-- half up (licensing.TaxCents). The billing address is kept on the
			-- invoice as it is now.
			SELECT d.*, b.addr, coalesce(t.name, '') AS tax_name, coalesce(t.bp, 0) AS tax_bp,
			       CASE WHEN t.bp IS NULL THEN 0 ELSE (d.price_cents * t.bp + 5000) / 10000 END AS tax_cents
			FROM due d
			LEFT JOIN LATERAL (SELECT `+billingAddressJSON+` AS addr, b.country FROM billing_addresses b WHERE b.license_id = d.id) b ON true
			LEFT JOIN LATERAL (SELECT r.name, r.bp FROM unnest($3::text[], $4::text[], $5::int[]) AS r(country, name, bp)
			                   WHERE r.country = b.country OR r.country = '*'
			                   ORDER BY r.country = '*' LIMIT 1) t ON true
		), invoiced AS (
			INSERT INTO invoices (license_id, number, period_start, period_end, due_date, amount_cents, currency, tax_name, tax_rate_bp, tax_cents, bill_to)
			SELECT id, sen || '-' || to_char(period_start, 'YYYY-MM-DD'), period_start, period_end, period_start, price_cents + tax_cents, currency,
			       tax_name, tax_bp, tax_cents, addr
			FROM taxed WHERE price_cents > 0
			ON CONFLICT (license_id, period_start) DO NOTHING
			RETURNING license_id, number, amount_cents, currency
		), audited AS (
			INSERT INTO audit_log (actor_kind, actor, action, license_id, workflow_id, detail)
			SELECT 'system', 'billing', 'invoice.create', license_id, 'invoice/' || number,
			       jsonb_build_object('number', number, 'amount', amount_cents, 'currency', currency)
			FROM invoiced
		), moved AS (
			UPDATE licenses l SET next_billing_date = d.period_end, updated_at = now()
			FROM due d WHERE l.id = d.id
			RETURNING 1
		)
		SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM invoiced)`, today, limit, taxCountries, taxNames, taxRates).Scan(&moved, &invoiced)
	return moved, invoiced, err
}

// PendingCollections lists up to limit open invoices whose collection has
// not been started, oldest first (the outbox the sweep empties).
func (db *DB) PendingCollections(ctx context.Context, limit int) ([]InvoiceRef, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT i.number, l.sen FROM invoices i JOIN licenses l ON l.id = i.license_id
		WHERE i.collection_started_at IS NULL AND i.status = 'open'
		ORDER BY i.id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[InvoiceRef])
}

// CollectionsStarted stamps invoices whose collection workflow now runs.
func (db *DB) CollectionsStarted(ctx context.Context, numbers []string) error {
	_, err := db.pool.Exec(ctx, `UPDATE invoices SET collection_started_at = now() WHERE number = ANY($1) AND collection_started_at IS NULL`, numbers)
	return err
}

// AttemptResult is how one charge attempt ended.
type AttemptResult struct {
	Status      string // pending, succeeded, failed
	ProviderRef string
	DeclineCode string
	Error       string
	// CreatedAt is when the attempt was first begun (first sent to the
	// provider, for a pending one) and Age how long ago that is, by the
	// database's clock (BeginAttempt only).
	CreatedAt time.Time
	Age       time.Duration
}

// PendingAttempt is an attempt begun and not answered.
type PendingAttempt struct {
	Key       string
	CreatedAt time.Time
	InFlight  bool // begun in the last ten minutes: a worker is charging it now
}

// EarlierPendingAttempts lists the invoice's attempts before attempt that
// have no answer: in flight (another worker is charging it right now, as
// the billing sweep's first attempt while /license charge asks for the
// next), or left behind by a worker that died.
func (db *DB) EarlierPendingAttempts(ctx context.Context, number string, attempt int) ([]PendingAttempt, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT a.idempotency_key, a.created_at, a.created_at > now() - interval '10 minutes'
		FROM charge_attempts a JOIN invoices i ON i.id = a.invoice_id
		WHERE i.number = $1 AND a.attempt < $2 AND a.status = 'pending' ORDER BY a.attempt`, number, attempt)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PendingAttempt])
}

// BeginAttempt records a charge attempt before the provider is called. If
// the attempt was recorded before (the activity is being retried) it returns
// the stored row instead, and started is false.
func (db *DB) BeginAttempt(ctx context.Context, number string, attempt int, key, paymentMethod string) (AttemptResult, bool, error) {
	var r AttemptResult
	tag, err := db.pool.Exec(ctx, `
		INSERT INTO charge_attempts (invoice_id, attempt, idempotency_key, payment_method)
		SELECT id, $2, $3, $4 FROM invoices WHERE number = $1
		ON CONFLICT DO NOTHING`, number, attempt, key, paymentMethod)
	if err != nil {
		return r, false, err
	}
	started := tag.RowsAffected() == 1
	var ageSeconds float64
	err = db.pool.QueryRow(ctx, `
		SELECT status, coalesce(provider_ref, ''), coalesce(decline_code, ''), coalesce(error, ''), created_at,
		       extract(epoch FROM now() - created_at)::float8
		FROM charge_attempts WHERE idempotency_key = $1`, key).Scan(&r.Status, &r.ProviderRef, &r.DeclineCode, &r.Error, &r.CreatedAt, &ageSeconds)
	r.Age = time.Duration(ageSeconds * float64(time.Second))
	return r, started, err
}

// FinishAttempt records the provider's answer. A success also marks the
// invoice paid and, if the licence was past due or suspended, active again,
// in the same transaction; reactivatedFrom is the status it left then
// (past_due or suspended; "" when it did not change). The
// unique index on successful attempts makes a second success for one
// invoice fail loudly rather than be recorded.
func (db *DB) FinishAttempt(ctx context.Context, key string, r AttemptResult) (reactivatedFrom licensing.Status, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var (
			invoiceID, licID int64
			number           string
			wasFinished      bool
		)
		if err := tx.QueryRow(ctx, `
			WITH old AS (SELECT id, status FROM charge_attempts WHERE idempotency_key = $1 FOR UPDATE)
			UPDATE charge_attempts a SET status = $2, provider_ref = nullif($3, ''), decline_code = nullif($4, ''), error = nullif($5, ''), finished_at = $6
			FROM old, invoices i WHERE a.id = old.id AND i.id = a.invoice_id
			RETURNING a.invoice_id, i.license_id, i.number, old.status <> 'pending'`, key, r.Status, r.ProviderRef, r.DeclineCode, r.Error, db.now()).
			Scan(&invoiceID, &licID, &number, &wasFinished); err != nil {
			return err
		}
		by := billingActor(number)
		if r.Status != "succeeded" {
			if wasFinished {
				return nil // recorded before
			}
			if r.DeclineCode == AuthenticationRequired && r.ProviderRef != "" {
				// Not a failure: the charge waits, open, for the cardholder
				// to confirm it with their bank (webhook
				// invoice.payment_action_required).
				return audit(ctx, tx, by, "invoice.payment_action_required", licID, 0, map[string]any{"number": number})
			}
			return audit(ctx, tx, by, "charge.failed", licID, 0, map[string]any{"number": number, "code": r.DeclineCode, "reason": r.Error})
		}
		if err := tx.QueryRow(ctx, `UPDATE invoices SET status = 'paid', paid_at = $2 WHERE id = $1 AND status = 'open' RETURNING license_id`, invoiceID, db.now()).Scan(&licID); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // already paid: nothing more to do
			}
			return err
		}
		if err := audit(ctx, tx, by, "invoice.paid", licID, 0, map[string]any{"number": number}); err != nil {
			return err
		}
		// Active again only once nothing else is owed.
		var was string
		err := tx.QueryRow(ctx, `
			WITH old AS (SELECT id, status FROM licenses WHERE id = $1 FOR UPDATE)
			UPDATE licenses l SET status = 'active', past_due_since = NULL, updated_at = now()
			FROM old WHERE l.id = old.id AND old.status IN ('past_due', 'suspended')
			  AND NOT EXISTS (SELECT 1 FROM invoices WHERE license_id = $1 AND status = 'open')
			RETURNING old.status`, licID).Scan(&was)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		reactivatedFrom = licensing.Status(was)
		return audit(ctx, tx, by, "license.reactivated", licID, 0, map[string]any{"was": was})
	})
	return reactivatedFrom, err
}

// MarkPastDue makes an active licence past due (a suspended one stays
// suspended) because invoice is unpaid. Idempotent.
func (db *DB) MarkPastDue(ctx context.Context, sen licensing.SEN, since time.Time, invoice string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var licID int64
		err := tx.QueryRow(ctx, `
			UPDATE licenses SET status = 'past_due', past_due_since = coalesce(past_due_since, $2), updated_at = now()
			WHERE sen = $1 AND status = 'active' RETURNING id`, string(sen), since).Scan(&licID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, billingActor(invoice), "license.past_due", licID, 0, map[string]any{"number": invoice})
	})
}

// Suspend suspends a licence because invoice is unpaid. Idempotent; a
// paid-up licence is left alone.
func (db *DB) Suspend(ctx context.Context, sen licensing.SEN, invoice string) (bool, error) {
	suspended := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var licID int64
		err := tx.QueryRow(ctx, `
			UPDATE licenses l SET status = 'suspended', updated_at = now()
			WHERE sen = $1 AND status IN ('active', 'past_due')
			  AND EXISTS (SELECT 1 FROM invoices i WHERE i.license_id = l.id AND i.status = 'open') RETURNING id`, string(sen)).Scan(&licID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		suspended = true
		return audit(ctx, tx, billingActor(invoice), "license.suspended", licID, 0, map[string]any{"number": invoice})
	})
	return suspended, err
}

// billingActor is billing itself, acting in an invoice's collection.
func billingActor(invoice string) licensing.Actor {
	return licensing.Actor{Kind: "system", ID: "billing", WorkflowID: "invoice/" + invoice}
}

// NextBillingDate returns when a licence is next billed; ok is false for
// server and cancelled licences.
func (db *DB) NextBillingDate(ctx context.Context, sen licensing.SEN) (time.Time, bool, error) {
	var next *time.Time
	var billable bool
	err := db.pool.QueryRow(ctx, `SELECT next_billing_date, deployment = 'cloud' AND status <> 'cancelled' FROM licenses WHERE sen = $1`, string(sen)).Scan(&next, &billable)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, licensing.Errorf(licensing.NotFound, "No licence %s found.", sen)
	}
	if err != nil || next == nil {
		return time.Time{}, false, err
	}
	return *next, billable, nil
}

// CreateInvoice invoices the cycle starting at periodStart and moves the
// licence's next billing date one cycle on. Idempotent: an invoice for that
// period is returned as it is.
func (db *DB) CreateInvoice(ctx context.Context, sen licensing.SEN, periodStart time.Time) (string, error) {
	var number string
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var (
			licID  int64
			cycle  string
			price  int64
			curr   string
			status string
		)
		if err := tx.QueryRow(ctx, `SELECT id, billing_cycle, price_cents, currency, status FROM licenses WHERE sen = $1 AND deployment = 'cloud' FOR UPDATE`,
			string(sen)).Scan(&licID, &cycle, &price, &curr, &status); err != nil {
			return err
		}
		end := periodStart.AddDate(0, 1, 0)
		if cycle == "annual" {
			end = periodStart.AddDate(1, 0, 0)
		}
		number = fmt.Sprintf("%s-%s", sen, periodStart.Format("2006-01-02"))
		if _, err := tx.Exec(ctx, `
			INSERT INTO invoices (license_id, number, period_start, period_end, due_date, amount_cents, currency, collection_started_at)
			VALUES ($1, $2, $3, $4, $3, $5, $6, now()) ON CONFLICT (license_id, period_start) DO NOTHING`,
			licID, number, periodStart, end, price, curr); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE licenses SET next_billing_date = $2, updated_at = now() WHERE id = $1 AND next_billing_date <= $3`, licID, end, periodStart)
		if err != nil || tag.RowsAffected() == 0 {
			return err // invoiced before
		}
		return audit(ctx, tx, billingActor(number), "invoice.create", licID, 0, map[string]any{"number": number, "amount": price, "currency": curr})
	})
	return number, err
}

// SetDefaultCard records a captured card as the licence's default.
// Idempotent by provider reference.
func (db *DB) SetDefaultCard(ctx context.Context, sen licensing.SEN, ref, brand, last4 string, expMonth, expYear int) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var licID int64
		if err := tx.QueryRow(ctx, `SELECT id FROM licenses WHERE sen = $1 FOR UPDATE`, string(sen)).Scan(&licID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE payment_methods SET is_default = false WHERE license_id = $1 AND is_default AND provider_ref <> $2`, licID, ref); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO payment_methods (license_id, provider_ref, brand, last4, exp_month, exp_year, is_default)
			VALUES ($1, $2, $3, $4, $5, $6, true)
			ON CONFLICT (license_id, provider_ref) DO UPDATE SET is_default = true`, licID, ref, brand, last4, expMonth, expYear)
		return err
	})
}

// SetCustomer stores the provider's customer id for a licence.
func (db *DB) SetCustomer(ctx context.Context, sen licensing.SEN, customer string) error {
	_, err := db.pool.Exec(ctx, `UPDATE licenses SET payment_customer = $2 WHERE sen = $1`, string(sen), customer)
	return err
}

// Customer returns the provider's customer id for a licence ("" if none).
func (db *DB) Customer(ctx context.Context, sen licensing.SEN) (string, error) {
	var c string
	err := db.pool.QueryRow(ctx, `SELECT coalesce(payment_customer, '') FROM licenses WHERE sen = $1`, string(sen)).Scan(&c)
	return c, err
}

// DefaultCard reports whether ref is the licence's default card, and
// describes it.
func (db *DB) DefaultCard(ctx context.Context, sen licensing.SEN, ref string) (string, bool) {
	var card string
	err := db.pool.QueryRow(ctx, `
		SELECT p.brand || ' •••• ' || p.last4 FROM payment_methods p JOIN licenses l ON l.id = p.license_id
		WHERE l.sen = $1 AND p.provider_ref = $2 AND p.is_default`, string(sen), ref).Scan(&card)
	return card, err == nil
}

// ApplyCard spends an update-card link and records the captured card as the
// default in one transaction: the card is applied once per link.
func (db *DB) ApplyCard(ctx context.Context, linkID int64, sen licensing.SEN, ref, brand, last4 string, expMonth, expYear int) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		licID, l, err := lockLicense(ctx, tx, sen)
		if err != nil {
			return err
		}
		var (
			email      licensing.Email
			accID      int64
			workflowID string
		)
		err = tx.QueryRow(ctx, `UPDATE link_tokens t SET used_at = $3 FROM accounts a
			WHERE t.id = $1 AND t.license_id = $2 AND a.id = t.account_id
			  AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $3
			RETURNING a.email, a.id, coalesce(t.workflow_id, '')`, linkID, licID, db.now()).Scan(&email, &accID, &workflowID)
		if errors.Is(err, pgx.ErrNoRows) {
			return errSpentLink
		}
		if err != nil {
			return err
		}
		// Checked again here, in the transaction that spends the link: the
		// person may have been removed since the provider took the card.
		if err := licensing.CanUpdateCard(l, email); err != nil {
			return err
		}
		// A card update started on the account page (its workflow is
		// card/<SEN>/<email>) was made there, signed in, not by an emailed
		// link: the history and the card say so.
		via := "link"
		if workflowID == "card/"+string(sen)+"/"+string(email) {
			via = "account"
		}
		if _, err := tx.Exec(ctx, `UPDATE payment_methods SET is_default = false WHERE license_id = $1 AND is_default`, licID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO payment_methods (license_id, provider_ref, brand, last4, exp_month, exp_year, is_default, added_by, added_via)
			VALUES ($1, $2, $3, $4, $5, $6, true, $7, $8)
			ON CONFLICT (license_id, provider_ref) DO UPDATE SET is_default = true, added_by = excluded.added_by, added_via = excluded.added_via`,
			licID, ref, brand, last4, expMonth, expYear, string(email), via)
		if err != nil {
			return err
		}
		return audit(ctx, tx, licensing.Actor{Kind: via, ID: string(email), WorkflowID: workflowID}, "card.update", licID, accID,
			map[string]any{"card": brand + " •••• " + last4})
	})
}

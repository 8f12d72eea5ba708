package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// AuthenticationRequired is the decline code of a charge the bank wants the
// cardholder to confirm (bank authentication, SCA).
const AuthenticationRequired = "authentication_required"

// AwaitingAuth is a charge attempt that waits for the cardholder to confirm
// it with their bank: its provider charge (a PaymentIntent) is still open.
type AwaitingAuth struct {
	Invoice       string
	SEN           licensing.SEN
	Attempt       int
	Key           string // the attempt's idempotency key
	ChargeID      string // the provider's charge, pi_...
	PaymentMethod string
}

// AwaitingAuthentication returns the latest attempt on invoice number
// before attempt before (0: any) if it waits for bank authentication, or
// nil: when there is none, when a later attempt was made, or when the
// invoice is paid. One point read through charge_attempts' (invoice_id,
// attempt) key.
func (db *DB) AwaitingAuthentication(ctx context.Context, number string, before int) (*AwaitingAuth, error) {
	if before <= 0 {
		before = 1 << 30
	}
	var (
		a           AwaitingAuth
		status      string
		code, ref   *string
		invoiceOpen bool
	)
	err := db.pool.QueryRow(ctx, `
		SELECT i.number, l.sen, i.status = 'open', c.attempt, c.idempotency_key, c.status, c.decline_code, c.provider_ref, c.payment_method
		FROM invoices i JOIN licenses l ON l.id = i.license_id
		JOIN LATERAL (SELECT * FROM charge_attempts c WHERE c.invoice_id = i.id AND c.attempt < $2 ORDER BY c.attempt DESC LIMIT 1) c ON true
		WHERE i.number = $1`, number, before).Scan(&a.Invoice, &a.SEN, &invoiceOpen, &a.Attempt, &a.Key, &status, &code, &ref, &a.PaymentMethod)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !invoiceOpen || status != "failed" || code == nil || *code != AuthenticationRequired || ref == nil || *ref == "" {
		return nil, nil
	}
	a.ChargeID = *ref
	return &a, nil
}

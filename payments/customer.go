package payments

import (
	"context"

	"licensedesk/licensing"
)

// CustomerStore remembers each licence's customer at the provider
// (postgres.DB implements it).
type CustomerStore interface {
	Customer(ctx context.Context, sen licensing.SEN) (string, error)
	SetCustomer(ctx context.Context, sen licensing.SEN, customer string) error
}

// EnsureCustomer returns the provider's customer for a licence, creating it
// (idempotently, by SEN) and remembering it the first time. The customer's
// email is the primary billing contact's.
func EnsureCustomer(ctx context.Context, store CustomerStore, p Provider, l licensing.License) (string, error) {
	if c, err := store.Customer(ctx, l.SEN); err == nil && c != "" {
		return c, nil
	}
	var email licensing.Email
	for _, c := range l.Contacts {
		if c.Role == licensing.Billing && c.Primary {
			email = c.Email
		}
	}
	id, err := p.EnsureCustomer(ctx, Customer{SEN: string(l.SEN), Email: string(email)})
	if err != nil {
		return "", err
	}
	return id, store.SetCustomer(ctx, l.SEN, id)
}

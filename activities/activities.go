// Package activities holds every side effect licensedesk's workflows perform
// (database writes, mail, Slack, payments). Activities are methods on one
// struct holding the dependencies, and each is idempotent: Temporal may run
// it more than once.
package activities

import (
	"context"

	"licensedesk/licensing"
	"licensedesk/postgres"
)

// Activities holds what the activities need.
type Activities struct {
	DB *postgres.DB
}

// LookupLicenseInput names a licence.
type LookupLicenseInput struct {
	SEN licensing.SEN
}

// LookupLicenseOutput is the licence as it is now.
type LookupLicenseOutput struct {
	License licensing.License
}

// LookupLicense reads a licence with its contacts and site admins.
func (a *Activities) LookupLicense(ctx context.Context, in LookupLicenseInput) (LookupLicenseOutput, error) {
	l, err := a.DB.License(ctx, in.SEN)
	if err != nil {
		return LookupLicenseOutput{}, asApplicationError(err)
	}
	return LookupLicenseOutput{License: l}, nil
}

package activities

import (
	"go.temporal.io/sdk/temporal"

	"licensedesk/licensing"
)

// asApplicationError turns domain errors into non-retryable application
// errors whose type is the domain code, so workflows can branch on them and
// Temporal does not retry what cannot succeed. Other errors are retried.
func asApplicationError(err error) error {
	code := licensing.ErrorCode(err)
	if code == licensing.Internal {
		return err
	}
	return temporal.NewNonRetryableApplicationError(licensing.ErrorMessage(err), string(code), nil)
}

// Package temporalerr carries domain errors (*licensing.Error) across
// Temporal and back: an activity's or update's domain error travels as a
// non-retryable application error whose type is the domain code, so
// Temporal does not retry what cannot succeed, workflows can branch on the
// code, and the front ends show the person the same message. This is the
// one place that conversion is written.
package temporalerr

import (
	"errors"
	"slices"

	"go.temporal.io/sdk/temporal"

	"licensedesk/licensing"
)

// FromDomain turns a domain error into a non-retryable application error
// typed by its code; any other error (an outage, a bug) is returned as it
// is, for Temporal to retry.
func FromDomain(err error) error {
	code := licensing.ErrorCode(err)
	if err == nil || code == licensing.Internal {
		return err
	}
	return temporal.NewNonRetryableApplicationError(licensing.ErrorMessage(err), string(code), nil)
}

// New is a domain error raised inside a workflow, already in Temporal's
// form.
func New(code licensing.Code, message string) error {
	return temporal.NewNonRetryableApplicationError(message, string(code), nil)
}

// ToDomain returns the domain error err carries (however deeply Temporal
// wrapped it: activity error, update failure), or nil when it carries none.
func ToDomain(err error) *licensing.Error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if code := licensing.Code(appErr.Type()); slices.Contains(licensing.Codes, code) {
			return &licensing.Error{Code: code, Message: appErr.Message()}
		}
	}
	return nil
}

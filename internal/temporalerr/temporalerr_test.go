package temporalerr

import (
	"errors"
	"fmt"
	"testing"

	"go.temporal.io/sdk/temporal"

	"licensedesk/licensing"
)

func TestDomainErrorsSurviveTheRoundTrip(t *testing.T) {
	for _, code := range licensing.Codes {
		in := licensing.Errorf(code, "message for %s", code)
		wrapped := fmt.Errorf("activity error: %w", FromDomain(in))
		var appErr *temporal.ApplicationError
		if !errors.As(wrapped, &appErr) || !appErr.NonRetryable() {
			t.Errorf("%s: %v is not a non-retryable application error", code, wrapped)
		}
		if out := ToDomain(wrapped); out == nil || out.Code != code || out.Message != in.Message {
			t.Errorf("%s: back as %+v", code, out)
		}
	}
	outage := errors.New("connection refused")
	if FromDomain(outage) != outage || ToDomain(outage) != nil {
		t.Error("an outage must stay a plain, retryable error")
	}
	if ToDomain(temporal.NewNonRetryableApplicationError("x", "SlackPermanent", nil)) != nil {
		t.Error("an application error of a type that is no domain code is not a domain error")
	}
	if FromDomain(nil) != nil {
		t.Error("FromDomain(nil) != nil")
	}
}

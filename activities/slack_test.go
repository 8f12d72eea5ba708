package activities_test

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"

	"licensedesk/activities"
	"licensedesk/internal/slacktest"
	"licensedesk/operation"
	"licensedesk/slackout"
)

// A Slack error no retry can cure fails the report at once and for good
// (the workflow does not hold a retry loop for it); a progress message
// that can no longer be updated is posted again instead.
func TestReportProgress_PermanentSlackErrorsAreNotRetried(t *testing.T) {
	ctx := context.Background()
	srv := slacktest.NewServer(t)
	acts := &activities.Activities{Slack: slackout.NewWebAPI("xoxb-test", srv.URL(), srv.Client())}
	st := operation.Status{WorkflowID: "card/SEN-1000001", Summary: "Update the card of SEN-1000001",
		Steps: []operation.Step{{Key: "links", Title: "Email links", State: operation.Active}}, Step: "links"}
	ref := activities.ProgressRef{Channel: "C0PROGRESS"}

	out, err := acts.ReportProgress(ctx, activities.ReportProgressInput{Ref: ref, Status: st})
	if err != nil || out.Ref.TS == "" {
		t.Fatalf("first report: %+v, %v", out, err)
	}
	ref = out.Ref

	srv.FailNext(2, "channel_not_found") // the update, then the post it falls back to
	_, err = acts.ReportProgress(ctx, activities.ReportProgressInput{Ref: ref, Status: st})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() {
		t.Errorf("channel_not_found: %v; want a non-retryable error", err)
	}

	srv.FailNext(1, "message_not_found")
	out, err = acts.ReportProgress(ctx, activities.ReportProgressInput{Ref: ref, Status: st})
	if err != nil || out.Ref.TS == "" || out.Ref.TS == ref.TS {
		t.Errorf("message_not_found: %+v, %v; want the status posted as a new message", out, err)
	}

	srv.FailNext(1, "internal_error")
	if _, err = acts.ReportProgress(ctx, activities.ReportProgressInput{Ref: out.Ref, Status: st}); err == nil || errors.As(err, &appErr) {
		t.Errorf("internal_error: %v; want a plain (retryable) error", err)
	}
}

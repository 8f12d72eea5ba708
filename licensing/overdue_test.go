package licensing_test

import (
	"testing"
	"time"

	"licensedesk/licensing"
)

func TestOverdue_SaysWhatFailedAndWhatToDoByWhen(t *testing.T) {
	due := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	base := licensing.Overdue{SEN: "SEN-1000003", Product: "Jira Service Management", Status: licensing.PastDue,
		Invoice: "SEN-1000003-2026-11-28", AmountCents: 1000, Currency: "USD", DueDate: due,
		FailedAt: due.Add(2 * time.Hour), DeclineCode: "generic_decline", Reason: "Your card was declined."}.WithSuspension(15 * 24 * time.Hour)
	now := due.Add(3 * 24 * time.Hour)
	suspended := base
	suspended.Status = licensing.Suspended
	notCharged := base
	notCharged.FailedAt = time.Time{}
	late := base
	odd := base
	odd.DeclineCode, odd.Reason = "processing_error", "An error occurred while processing your card."
	for _, tc := range []struct {
		name string
		o    licensing.Overdue
		now  time.Time
		want string
	}{
		{"past due", base, now, "Payment of USD 10.00 for SEN-1000003 failed on 28 Nov 2026: card declined. Update your card before 13 Dec 2026 to keep Jira Service Management running."},
		{"suspension date passed", late, due.Add(16 * 24 * time.Hour), "Payment of USD 10.00 for SEN-1000003 failed on 28 Nov 2026: card declined. Update your card now to keep Jira Service Management running."},
		{"suspended", suspended, now, "SEN-1000003 is suspended: invoice SEN-1000003-2026-11-28 (USD 10.00) is unpaid. The last payment failed on 28 Nov 2026: card declined. Update your card to make Jira Service Management active again: the invoice is charged as soon as the card is saved."},
		{"never charged", notCharged, now, "Invoice SEN-1000003-2026-11-28 (USD 10.00) for SEN-1000003 is unpaid since 28 Nov 2026. Update your card before 13 Dec 2026 to keep Jira Service Management running."},
		{"provider's words", odd, now, "Payment of USD 10.00 for SEN-1000003 failed on 28 Nov 2026: an error occurred while processing your card. Update your card before 13 Dec 2026 to keep Jira Service Management running."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.o.Sentence(tc.now); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestDeclineWords_PlainForEveryHardDecline(t *testing.T) {
	for _, code := range []string{"incorrect_number", "lost_card", "pickup_card", "stolen_card", "revocation_of_authorization",
		"revocation_of_all_authorizations", "authentication_required", "transaction_not_allowed", "insufficient_funds", "expired_card", "generic_decline"} {
		if w := licensing.DeclineWords(code, "RAW PROVIDER TEXT"); w == "" || w == "rAW PROVIDER TEXT" {
			t.Errorf("%s: %q", code, w)
		}
	}
	if w := licensing.DeclineWords("", ""); w != "the charge failed" {
		t.Errorf("nothing known: %q", w)
	}
}

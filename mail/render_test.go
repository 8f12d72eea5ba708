package mail_test

import (
	"fmt"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"licensedesk/config"
	"licensedesk/licensing"
	"licensedesk/mail"
)

var deadline = time.Date(2026, 12, 7, 14, 30, 0, 0, time.UTC)

const evil = `<script>alert("x")</script>`

type renderCase struct {
	kind    mail.Kind
	data    any
	subject string
	url     string   // the link the mail must carry; "" for none
	want    []string // also in both bodies
}

func renderCases() []renderCase {
	return []renderCase{
		{mail.KindConfirmRequest, mail.ConfirmRequest{Name: evil, RequesterEmail: "eve@acme.test", SEN: "SEN-1000001",
			Product: "Confluence Cloud", RequestedBy: "our sales team", ApproveURL: "https://desk.example/l/req", Deadline: deadline},
			"Please confirm a request about SEN-1000001", "https://desk.example/l/req",
			[]string{"eve@acme.test", "our sales team", "Confluence Cloud"}},
		{mail.KindConfirmMove, mail.ConfirmMove{Name: evil, SEN: "SEN-1000001", Product: "Jira", NewEmail: "new@x.test",
			FromEmail: "alice@acme.test", Roles: []string{"billing", "technical"}, URL: "https://desk.example/l/move", Deadline: deadline},
			"Please confirm moving SEN-1000001 to new@x.test", "https://desk.example/l/move",
			[]string{"billing and technical", "alice@acme.test is then removed"}},
		{mail.KindConfirmMove, &mail.ConfirmMove{Name: "Al", SEN: "SEN-1000001", NewEmail: "new@x.test",
			FromEmail: "alice@acme.test", Roles: []string{"billing"}, KeepOld: true, URL: "https://desk.example/l/move2", Deadline: deadline, Reminder: true},
			"Reminder: Please confirm moving SEN-1000001 to new@x.test", "https://desk.example/l/move2",
			[]string{"alice@acme.test stays on as a secondary contact", "Hi Al,"}},
		{mail.KindInvitation, mail.Invitation{SEN: "SEN-1000002", Product: "Jira", Roles: []string{"technical"},
			InvitedBy: "our sales team", URL: "https://desk.example/l/inv", Deadline: deadline, Reminder: true},
			"Reminder: You have been added to SEN-1000002: complete your account", "https://desk.example/l/inv",
			[]string{"Hello,", "technical contact"}},
		{mail.KindAddedAsContact, mail.AddedAsContact{Name: evil, SEN: "SEN-1000003", Product: "Bitbucket", Role: "billing",
			AddedBy: "alice@acme.test", PromoteURL: "https://desk.example/l/promo", Deadline: deadline},
			"You are now a billing contact for SEN-1000003", "https://desk.example/l/promo",
			[]string{"by alice@acme.test", "Make yourself primary"}},
		{mail.KindAddedAsContact, mail.AddedAsContact{Name: evil, SEN: "SEN-1000003", Role: "technical", AddedBy: "alice@acme.test"},
			"You are now a technical contact for SEN-1000003", "", []string{"by alice@acme.test"}},
		{mail.KindPromoteYourself, mail.PromoteYourself{Name: evil, SEN: "SEN-1000004", Product: "Jira", Roles: []string{"billing"},
			URL: "https://desk.example/l/self", Deadline: deadline},
			"Make yourself the primary billing contact for SEN-1000004", "https://desk.example/l/self",
			[]string{"becomes a secondary contact"}},
		// Defect 2: who asked and when, who confirmed, who is demoted, what primary means, and Decline.
		{mail.KindPromoteYourself, mail.PromoteYourself{Name: evil, SEN: "SEN-1000001", Product: "Jira", Roles: []string{"billing", "technical"},
			URL: "https://desk.example/l/move", Deadline: deadline, ForMove: true, OfferedBy: "<@U1>", Demoted: []string{"alice@acme.test"},
			RequestedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), ApprovedBy: "carol@acme.test", ApprovedAt: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC),
			FromEmail: "alice@acme.test"},
			"Make yourself the primary billing and technical contact for SEN-1000001", "https://desk.example/l/move",
			[]string{"Our sales team asked on", "Tuesday 1 December 2026", "approved the move on Wednesday 2 December 2026", "carol@acme.test",
				"alice@acme.test, the primary contact now, becomes a secondary contact, and alice@acme.test is then removed from the licence",
				"receives the invoices, payment notices and renewal reminders", "technical and service notices", "Decline", "the move is called off"}},
		{mail.KindMoveCompleted, mail.MoveCompleted{Name: evil, SEN: "SEN-1000001", Product: "Jira", NewEmail: "new@x.test",
			OldEmail: "alice@acme.test", KeptOld: true},
			"SEN-1000001 has moved to new@x.test", "", []string{"alice@acme.test stays on as a secondary contact"}},
		{mail.KindMoveCompleted, mail.MoveCompleted{Name: evil, SEN: "SEN-1000001", NewEmail: "new@x.test", OldEmail: "alice@acme.test"},
			"SEN-1000001 has moved to new@x.test", "", []string{"alice@acme.test is no longer a contact"}},
		// Defect 7: the new owner learns the card stays and keeps paying, and where to replace it.
		{mail.KindMoveCompleted, mail.MoveCompleted{Name: evil, SEN: "SEN-1000001", Product: "Jira", NewEmail: "new@x.test", OldEmail: "alice@acme.test",
			Card: "Visa ending 4242", AccountURL: "https://desk.example/account"},
			"SEN-1000001 has moved to new@x.test", "https://desk.example/account", []string{"Visa ending 4242", "stays on the licence and keeps paying for it"}},
		{mail.KindUpdateCard, mail.UpdateCard{Name: evil, SEN: "SEN-1000003", Product: "JSM", URL: "https://desk.example/l/card",
			Deadline: deadline, PastDue: true, AmountDue: "USD 10.00"},
			"Update the card for SEN-1000003", "https://desk.example/l/card",
			[]string{"outstanding invoice of", "USD 10.00", "never see the card number"}},
		{mail.KindUpdateCard, mail.UpdateCard{Name: evil, SEN: "SEN-1000002", URL: "https://desk.example/l/card2", Deadline: deadline, Annual: true},
			"Update the card for SEN-1000002", "https://desk.example/l/card2",
			[]string{"charged on the next billing date", "as one of its site admins"}},
		{mail.KindPaymentFailed, mail.PaymentFailed{Name: evil, SEN: "SEN-1000003", Amount: "USD 10.00", InvoiceNumber: "SEN-1000003-2026-11-20",
			Reason: "Your card was declined.", NextRetry: deadline, SuspendOn: deadline.AddDate(0, 0, 8)},
			"Payment for SEN-1000003 failed", "", []string{"USD 10.00", "failed: your card was declined.", "try again on", "suspended"}},
		// The same facts as the account page's banner: when, why in plain words, and the date to act by.
		{mail.KindPaymentFailed, mail.PaymentFailed{Name: evil, SEN: "SEN-1000003", Product: "Jira Service Management", Amount: "USD 10.00",
			InvoiceNumber: "SEN-1000003-2026-11-20", Reason: "Your card was declined.", DeclineCode: "generic_decline",
			FailedAt: time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC), SuspendOn: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)},
			"Payment for SEN-1000003 failed", "", []string{"failed on", "Friday 20 November 2026", ": card declined.", "Update the card before",
				"Saturday 5 December 2026", "to keep Jira Service Management running."}},
		{mail.KindPaymentFailed, mail.PaymentFailed{Name: evil, SEN: "SEN-1000003", Amount: "USD 10.00", InvoiceNumber: "INV-1", Hard: true},
			"Payment for SEN-1000003 failed", "", []string{"cannot be charged again"}},
		{mail.KindPaymentSucceeded, mail.PaymentSucceeded{Name: evil, SEN: "SEN-1000003", Amount: "USD 10.00", InvoiceNumber: "INV-1",
			Card: "visa •••• 4242", Reactivated: true, Was: "suspended", ReceiptURL: "https://desk.example/account/invoices/INV-1"},
			"Payment received for SEN-1000003", "https://desk.example/account/invoices/INV-1", []string{"USD 10.00", "visa •••• 4242", "was suspended", "active again", "receipt"}},
		// Review #1: a licence that was only past due was never suspended.
		{mail.KindPaymentSucceeded, mail.PaymentSucceeded{Name: evil, SEN: "SEN-1000003", Amount: "USD 10.00", InvoiceNumber: "INV-1",
			Reactivated: true, Was: "past_due"},
			"Payment received for SEN-1000003", "", []string{"was past due", "nothing was interrupted"}},
		{mail.KindLicenceSuspended, mail.LicenceSuspended{Name: evil, SEN: "SEN-1000003", Amount: "USD 10.00", InvoiceNumber: "INV-1"},
			"SEN-1000003 is suspended", "", []string{"USD 10.00", "active again"}},
		{mail.KindCardUpdated, mail.CardUpdated{Name: evil, SEN: "SEN-1000003", Card: "visa •••• 4242", ChargedNow: true, Amount: "USD 10.00"},
			"The card for SEN-1000003 was updated", "", []string{"visa •••• 4242", "being charged to it now"}},
		// Review #8: the card-changed mail names who changed it.
		{mail.KindCardUpdated, mail.CardUpdated{Name: evil, SEN: "SEN-1000003", Card: "visa •••• 4242", By: "gina@initech.test", Via: "on the account page"},
			"The card for SEN-1000003 was updated", "", []string{"gina@initech.test", "changed the card", "(on the account page)", "check with gina@initech.test"}},
		{mail.KindRenewalReminder, mail.RenewalReminder{Name: evil, SEN: "SEN-1000002", Product: "Confluence", RenewsOn: time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC),
			Amount: "USD 120.00", Tax: "VAT 20 %", Card: "Visa ending 4242", CardExpires: "11/27", CanUpdate: true, AccountURL: "https://desk.example/account", SiteAdmin: true},
			"SEN-1000002 renews on Wednesday 1 December 2027: USD 120.00", "https://desk.example/account",
			[]string{"annual subscription", "USD 120.00", "VAT 20 % included", "Visa ending 4242", "expires before then (11/27)", "Update card", "a site admin of SEN-1000002"}},
		{mail.KindRenewalReminder, mail.RenewalReminder{Name: evil, SEN: "SEN-1000002", RenewsOn: time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC),
			Amount: "USD 100.00", Card: "Visa ending 4242", SiteAdmins: []string{"frank@globex.test"}},
			"SEN-1000002 renews on Wednesday 1 December 2027: USD 100.00", "",
			[]string{"ask a site admin of the licence (frank@globex.test)", "a billing contact of SEN-1000002", "nothing to do"}},
		{mail.KindCardHandover, mail.CardHandover{Name: evil, SEN: "SEN-1000001", Product: "Jira", MovedOn: time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC),
			Card: "Visa ending 4242", OldEmail: "alice@acme.test", CanUpdate: true, AccountURL: "https://desk.example/account"},
			"SEN-1000001 is still paid by alice@acme.test's card", "https://desk.example/account",
			[]string{"moved to you on Monday 9 November 2026", "Visa ending 4242", "alice@acme.test", "saved; they are no longer on the licence", "Update card", "only reminder"}},
		{mail.KindPasswordReset, mail.PasswordReset{Name: evil, URL: "https://desk.example/password/reset/tok", Deadline: deadline},
			"Reset your Licence Desk password", "https://desk.example/password/reset/tok",
			[]string{"Choose a new password", "ignore this email"}},
		{mail.KindPasswordChanged, mail.PasswordChanged{Name: evil, When: deadline, Reset: true},
			"Your Licence Desk password was changed", "",
			[]string{"reset with an emailed link", "signed out", "reset your password now"}},
		{mail.KindPasswordChanged, mail.PasswordChanged{When: deadline},
			"Your Licence Desk password was changed", "",
			[]string{"changed on your account page"}},
		{mail.KindMoveCancelled, mail.MoveCancelled{Name: evil, SEN: "SEN-1000001", NewEmail: "new@x.test", Reason: "Nobody confirmed it in time."},
			"The move of SEN-1000001 was cancelled", "", []string{"Reason: Nobody confirmed it in time.", "Nothing changed"}},
		{mail.KindRequestOutcome, mail.RequestOutcome{Name: evil, SEN: "SEN-1000001", RequesterEmail: "eve@acme.test", Approved: true, By: "alice@acme.test"},
			"Your request about SEN-1000001 was approved", "", []string{"alice@acme.test", "approved"}},
		{mail.KindRequestOutcome, mail.RequestOutcome{Name: evil, SEN: "SEN-1000001", By: "alice@acme.test"},
			"Your request about SEN-1000001 was declined", "", []string{"nothing will change"}},
		{mail.KindContactRemoved, mail.ContactRemoved{Name: evil, SEN: "SEN-1000001", Role: "technical", RemovedBy: "alice@acme.test"},
			"You are no longer a technical contact for SEN-1000001", "", []string{"You were removed as a", "by alice@acme.test"}},
		{mail.KindPromotedNotice, mail.PromotedNotice{Name: evil, SEN: "SEN-1000001", Role: "billing", NewPrimary: "bob@acme.test"},
			"bob@acme.test is now the primary billing contact for SEN-1000001", "", []string{"secondary billing contact"}},
		{mail.KindUpdateCard, mail.UpdateCard{Name: evil, SEN: "SEN-1000005", Product: "Jira", URL: "https://desk.example/l/card",
			Deadline: deadline, PastDue: true, AmountDue: "USD 10.00"},
			"Update the card for SEN-1000005", "https://desk.example/l/card",
			[]string{"Update card", "run by our payment provider", "never see the card number",
				"the outstanding invoice of", "USD 10.00", "is charged as soon as you save the new card", "contacts or site admins"}},
		// Review #8 and #14: who asked, why, who else got a link; a resent
		// link says the earlier one no longer works.
		{mail.KindUpdateCard, mail.UpdateCard{Name: evil, SEN: "SEN-1000005", Product: "Jira", URL: "https://desk.example/l/card3", Deadline: deadline,
			PastDue: true, AmountDue: "USD 10.00", AskedBy: "Dana Smith, of our sales team", Others: []string{"bob@acme.test", "carol@acme.test"}, NewLink: true},
			"Update the card for SEN-1000005 (new link)", "https://desk.example/l/card3",
			[]string{"Dana Smith, of our sales team asked us to send you this link", "because the licence", "is past due",
				"bob@acme.test and carol@acme.test were sent a link of their own", "the one we sent before no longer works"}},
		{mail.KindUpdateCard, mail.UpdateCard{Name: evil, SEN: "SEN-1000005", URL: "https://desk.example/l/card4", Deadline: deadline, AskedBy: "<@U123>"},
			"Update the card for SEN-1000005", "https://desk.example/l/card4", []string{"Our sales team asked us to send you this link"}},
		{mail.KindUpdateCard, &mail.UpdateCard{Name: "Al", SEN: "SEN-1000005", URL: "https://desk.example/l/card2",
			Deadline: deadline, Annual: true, Reminder: true},
			"Reminder: Update the card for SEN-1000005", "https://desk.example/l/card2",
			[]string{"Hi Al,", "the new card is charged on the next billing date", "site admins (the card of an annual licence"}},
		{mail.KindPaymentFailed, mail.PaymentFailed{Name: evil, SEN: "SEN-1000005", Product: "Jira", Amount: "USD 10.00",
			InvoiceNumber: "INV-0042", Reason: "Your card was declined.", NextRetry: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC),
			SuspendOn: time.Date(2026, 12, 10, 9, 0, 0, 0, time.UTC), UpdateURL: "https://desk.example/l/fail", Deadline: deadline},
			"Payment for SEN-1000005 failed", "https://desk.example/l/fail",
			[]string{"USD 10.00", "INV-0042", "your card was declined", "try again on", "Thursday 3 December 2026 at 09:00 UTC",
				"still unpaid on", "Thursday 10 December 2026 at 09:00 UTC", "Update card"}},
		{mail.KindPaymentFailed, mail.PaymentFailed{Name: evil, SEN: "SEN-1000005", Amount: "EUR 99.00", InvoiceNumber: "INV-0043",
			Reason: "Your card was reported lost.", Hard: true, NextRetry: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)},
			"Payment for SEN-1000005 failed", "",
			[]string{"EUR 99.00", "INV-0043", "cannot be charged again: a new card is needed", "ask a site admin of the licence"}},
		{mail.KindPaymentFailed, mail.PaymentFailed{Name: evil, SEN: "SEN-1000005", Amount: "EUR 99.00", InvoiceNumber: "INV-0044"},
			"Payment for SEN-1000005 failed", "",
			[]string{"no more automatic retries: a new card is needed", "ask a site admin of the licence"}},
		{mail.KindPaymentFailed, mail.PaymentFailed{Name: evil, SEN: "SEN-1000005", Amount: "EUR 99.00", InvoiceNumber: "INV-0046", LinkSent: true},
			"Payment for SEN-1000005 failed", "",
			[]string{"separate email with a secure link to update the card"}},
		{mail.KindLicenceSuspended, mail.LicenceSuspended{Name: evil, SEN: "SEN-1000005", Amount: "EUR 99.00", InvoiceNumber: "INV-0046", LinkSent: true},
			"SEN-1000005 is suspended", "",
			[]string{"secure link we have sent you in a separate email"}},
		{mail.KindPaymentSucceeded, mail.PaymentSucceeded{Name: evil, SEN: "SEN-1000005", Product: "Jira", Amount: "USD 10.00",
			InvoiceNumber: "INV-0042", Card: "visa •••• 4242", Reactivated: true},
			"Payment received for SEN-1000005", "",
			[]string{"USD 10.00", "INV-0042", "visa •••• 4242", "good standing again"}},
		{mail.KindPaymentSucceeded, mail.PaymentSucceeded{Name: evil, SEN: "SEN-1000005", Amount: "USD 10.00", InvoiceNumber: "INV-0045"},
			"Payment received for SEN-1000005", "", []string{"USD 10.00", "INV-0045"}},
		{mail.KindLicenceSuspended, mail.LicenceSuspended{Name: evil, SEN: "SEN-1000005", Product: "Jira", Amount: "USD 10.00",
			InvoiceNumber: "INV-0042", UpdateURL: "https://desk.example/l/susp", Deadline: deadline},
			"SEN-1000005 is suspended", "https://desk.example/l/susp",
			[]string{"USD 10.00", "INV-0042", "Update card", "active again"}},
		{mail.KindLicenceSuspended, mail.LicenceSuspended{Name: evil, SEN: "SEN-1000005", Amount: "USD 10.00", InvoiceNumber: "INV-0042"},
			"SEN-1000005 is suspended", "", []string{"USD 10.00", "Ask a site admin of the licence to update the card", "active again"}},
		{mail.KindCardUpdated, mail.CardUpdated{Name: evil, SEN: "SEN-1000005", Product: "Jira", Card: "visa •••• 4242",
			ChargedNow: true, Amount: "USD 10.00"},
			"The card for SEN-1000005 was updated", "",
			[]string{"visa •••• 4242", "The outstanding invoice of", "USD 10.00", "is being charged to it now", "didn't expect this change", "billing contact"}},
		{mail.KindCardUpdated, mail.CardUpdated{Name: evil, SEN: "SEN-1000005", Card: "mastercard •••• 4444"},
			"The card for SEN-1000005 was updated", "", []string{"mastercard •••• 4444", "next billing date"}},
		// Bank authentication (SCA): a link to confirm, another card, and whom to ask.
		{mail.KindConfirmPayment, mail.ConfirmPayment{Name: evil, SEN: "SEN-1000006", Product: "Jira", Amount: "USD 10.00", InvoiceNumber: "SEN-1000006-2026-12-01",
			Card: "visa •••• 3184", AskedAt: deadline, ConfirmURL: "https://desk.example/l/pay", Deadline: deadline,
			UpdateURL: "https://desk.example/l/card", UpdateDeadline: deadline, SuspendOn: deadline.AddDate(0, 0, 15)},
			"Confirm your payment for SEN-1000006 with your bank", "https://desk.example/l/pay",
			[]string{"Your bank has asked the cardholder to confirm the payment of", "visa •••• 3184", "3-D Secure", "Confirm the payment",
				"https://desk.example/l/card", "Use another card", "Tuesday 22 December 2026", "billing contact"}},
		{mail.KindConfirmPayment, mail.ConfirmPayment{SEN: "SEN-1000006", Amount: "USD 10.00", InvoiceNumber: "SEN-1000006-2026-12-01",
			Reminder: true, UpdaterOnly: false, SiteAdmins: []string{"frank@globex.test"}},
			"Reminder: Confirm your payment for SEN-1000006 with your bank", "",
			[]string{"ask a site admin of the licence (frank@globex.test)"}},
		{mail.KindConfirmPayment, mail.ConfirmPayment{SEN: "SEN-1000006", Amount: "USD 10.00", InvoiceNumber: "SEN-1000006-2026-12-01",
			Suspended: true, ConfirmURL: "https://desk.example/l/pay2", Deadline: deadline, UpdaterOnly: true},
			"SEN-1000006 is suspended: confirm your payment with your bank", "https://desk.example/l/pay2",
			[]string{"is suspended because invoice", "active again at once", "you may update the card"}},
		// Expiring cards: before, and a charge due after the expiry.
		{mail.KindCardExpiring, mail.CardExpiring{Name: evil, SEN: "SEN-1000007", Product: "Jira", Card: "Visa ending 4242",
			Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), NextCharge: time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC), Amount: "USD 10.00",
			UpdateURL: "https://desk.example/l/exp", Deadline: deadline},
			"The card for SEN-1000007 works until Thursday 31 December 2026: please update it", "https://desk.example/l/exp",
			[]string{"Visa ending 4242", "Friday 15 January 2027", "will have expired", "a new card stops these emails"}},
		{mail.KindCardExpiring, mail.CardExpiring{SEN: "SEN-1000007", Card: "Visa ending 4242", Expired: true, Annual: true,
			Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), NextCharge: time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC),
			UpdateURL: "https://desk.example/l/exp2", Deadline: deadline},
			"The card for SEN-1000007 has expired: update it before the charge on Friday 15 January 2027", "https://desk.example/l/exp2",
			[]string{"expired after", "no longer works", "site admins"}},
		// Review #7: primary contacts hear of every contact change, and
		// before a change can demote them.
		{mail.KindContactsChanged, mail.ContactsChanged{Name: evil, SEN: "SEN-1000001", Product: "Jira", Change: mail.ChangeAdded,
			Contact: "eve@acme.test", Roles: []string{"billing"}, By: "bob@acme.test", Via: "on the account page", Offered: true,
			YourRoles: []string{"billing"}, AccountURL: "https://desk.example/account"},
			"bob@acme.test added eve@acme.test to SEN-1000001 and offered them the primary role", "https://desk.example/account",
			[]string{"bob@acme.test added", "as billing contact", "on the account page", "If they accept", "remove them from the licence before they accept"}},
		{mail.KindContactsChanged, mail.ContactsChanged{Name: evil, SEN: "SEN-1000001", Change: mail.ChangeRemoved,
			Contact: "eve@acme.test", Roles: []string{"technical"}},
			"Our sales team removed eve@acme.test from SEN-1000001", "", []string{"Our sales team removed", "as technical contact", "no longer receive"}},
		{mail.KindContactsChanged, mail.ContactsChanged{Name: evil, SEN: "SEN-1000001", Change: mail.ChangePromoted,
			Contact: "eve@acme.test", Roles: []string{"billing"}, Former: []string{"alice@acme.test"}},
			"eve@acme.test is now the primary billing contact of SEN-1000001", "",
			[]string{"made themselves the primary billing contact", "alice@acme.test is now a secondary contact"}},
		{mail.KindContactsChanged, mail.ContactsChanged{Name: evil, SEN: "SEN-1000001", Change: mail.ChangeMove, Contact: "new@x.test",
			Roles: []string{"billing"}, ApprovedBy: "carol@acme.test", YourRoles: []string{"billing"}, AccountURL: "https://desk.example/account"},
			"SEN-1000001 is moving to new@x.test", "https://desk.example/account",
			[]string{"carol@acme.test approved the move", "the move waits for that last step"}},
		// Review #14: whoever a cancelled request waited on is told.
		{mail.KindRequestCancelled, mail.RequestCancelled{Name: evil, SEN: "SEN-1000001", Product: "Jira",
			What: "the move of SEN-1000001 to zed@newco.test", At: deadline},
			"Cancelled: the move of SEN-1000001 to zed@newco.test", "",
			[]string{"Our sales team cancelled", "Monday 7 December 2026", "no longer works", "nothing you need to do"}},
		// Review #17: a lock says from where, and points to a new password.
		{mail.KindSignInLocked, mail.SignInLocked{Name: evil, When: deadline, Attempts: 5, For: 15 * time.Minute,
			Device: "Firefox on Windows", IP: "203.0.113.9", ForgotURL: "https://desk.example/password/forgot"},
			"Sign-in to your Licence Desk account was paused", "https://desk.example/password/forgot",
			[]string{"5 wrong passwords", "15 minutes", "Firefox on Windows", "203.0.113.9", "If it wasn't you"}},
	}
}

func TestRender_EveryKind(t *testing.T) {
	seen := map[mail.Kind]bool{}
	dump := os.Getenv("MAIL_DUMP") // a directory: write every rendering there to look at
	for i, c := range renderCases() {
		seen[c.kind] = true
		subject, text, html, err := mail.Render(c.kind, c.data)
		if err != nil {
			t.Errorf("%s: %v", c.kind, err)
			continue
		}
		if dump != "" {
			base := filepath.Join(dump, fmt.Sprintf("%s-%02d", c.kind, i))
			_ = os.WriteFile(base+".txt", []byte("Subject: "+subject+"\n\n"+text), 0o644)
			_ = os.WriteFile(base+".html", []byte(html), 0o644)
		}
		if subject != c.subject {
			t.Errorf("%s: subject = %q, want %q", c.kind, subject, c.subject)
		}
		for _, body := range []struct{ name, s string }{{"text", text}, {"html", html}} {
			for _, w := range append([]string{c.url, "Licence Desk", "You are receiving this because"}, c.want...) {
				if !strings.Contains(body.s, w) {
					t.Errorf("%s %s: missing %q in\n%s", c.kind, body.name, w, body.s)
				}
			}
			switch {
			case strings.Contains(c.url, "/account"), strings.Contains(c.url, "/password/forgot"): // no one-time links
			case c.url != "":
				for _, w := range []string{"works once", "Monday 7 December 2026 at 14:30 UTC"} {
					if !strings.Contains(body.s, w) {
						t.Errorf("%s %s: missing %q", c.kind, body.name, w)
					}
				}
			case strings.Contains(body.s, "works once") || strings.Contains(body.s, "https://"):
				t.Errorf("%s %s: a link note without a link", c.kind, body.name)
			}
		}
		if strings.Contains(html, "<script") {
			t.Errorf("%s: HTML has an unescaped <script>:\n%s", c.kind, html)
		}
		if name := nameOf(c.data); name == evil {
			if !strings.Contains(html, "&lt;script&gt;") {
				t.Errorf("%s: the name is not in the HTML, escaped", c.kind)
			}
			if !strings.Contains(text, evil) {
				t.Errorf("%s: the plain text should show the name as it is", c.kind)
			}
		}
		for _, w := range []string{"max-width:600px", "<!DOCTYPE html>", "<title>" + htmlEscape(subject) + "</title>"} {
			if !strings.Contains(html, w) {
				t.Errorf("%s: HTML missing %q", c.kind, w)
			}
		}
		if c.url != "" && !strings.Contains(html, `<a href="`+c.url+`"`) {
			t.Errorf("%s: HTML has no button to %s", c.kind, c.url)
		}
		if strings.Contains(text, "\n\n\n") || !strings.HasSuffix(text, ".\n") {
			t.Errorf("%s: untidy text:\n%q", c.kind, text)
		}
	}
	for _, k := range mail.Kinds() {
		if !seen[k] {
			t.Errorf("kind %s not tested", k)
		}
	}
}

func nameOf(data any) string {
	switch d := data.(type) {
	case mail.ConfirmRequest:
		return d.Name
	case mail.ConfirmMove:
		return d.Name
	case mail.AddedAsContact:
		return d.Name
	case mail.PromoteYourself:
		return d.Name
	case mail.MoveCompleted:
		return d.Name
	case mail.MoveCancelled:
		return d.Name
	case mail.RequestOutcome:
		return d.Name
	case mail.ContactRemoved:
		return d.Name
	case mail.PromotedNotice:
		return d.Name
	case mail.UpdateCard:
		return d.Name
	case mail.PaymentFailed:
		return d.Name
	case mail.PaymentSucceeded:
		return d.Name
	case mail.LicenceSuspended:
		return d.Name
	case mail.CardUpdated:
		return d.Name
	case mail.ContactsChanged:
		return d.Name
	case mail.RequestCancelled:
		return d.Name
	case mail.SignInLocked:
		return d.Name
	}
	return ""
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func TestRender_Refuses(t *testing.T) {
	cases := []struct {
		name string
		kind mail.Kind
		data any
		want string
	}{
		{"unknown kind", "nope", mail.MoveCompleted{}, "unknown kind"},
		{"wrong data", mail.KindConfirmMove, mail.MoveCompleted{SEN: "SEN-1", NewEmail: "a@b.c"}, "want mail.ConfirmMove"},
		{"nil pointer", mail.KindConfirmMove, (*mail.ConfirmMove)(nil), "nil"},
		{"no URL", mail.KindConfirmMove, mail.ConfirmMove{SEN: "SEN-1", NewEmail: "a@b.c", Roles: []string{"billing"}, Deadline: deadline}, "URL"},
		{"no deadline", mail.KindPromoteYourself, mail.PromoteYourself{SEN: "SEN-1", URL: "https://x/l/1", Roles: []string{"billing"}}, "Deadline"},
		{"promote link without deadline", mail.KindAddedAsContact, mail.AddedAsContact{SEN: "SEN-1", Role: "billing", AddedBy: "x", PromoteURL: "https://x"}, "Deadline"},
		{"card link without URL", mail.KindUpdateCard, mail.UpdateCard{SEN: "SEN-1", Deadline: deadline}, "URL"},
		{"card link without SEN", mail.KindUpdateCard, mail.UpdateCard{URL: "https://x/l/1", Deadline: deadline}, "SEN"},
		{"card link without deadline", mail.KindUpdateCard, mail.UpdateCard{SEN: "SEN-1", URL: "https://x/l/1"}, "Deadline"},
		{"past due without amount", mail.KindUpdateCard, mail.UpdateCard{SEN: "SEN-1", URL: "https://x/l/1", Deadline: deadline, PastDue: true}, "AmountDue"},
		{"failure without amount", mail.KindPaymentFailed, mail.PaymentFailed{SEN: "SEN-1", InvoiceNumber: "INV-1"}, "Amount"},
		{"failure without invoice", mail.KindPaymentFailed, mail.PaymentFailed{SEN: "SEN-1", Amount: "USD 1.00"}, "InvoiceNumber"},
		{"failure link without deadline", mail.KindPaymentFailed, mail.PaymentFailed{SEN: "SEN-1", Amount: "USD 1.00", InvoiceNumber: "INV-1",
			UpdateURL: "https://x/l/1"}, "Deadline"},
		{"payment without invoice", mail.KindPaymentSucceeded, mail.PaymentSucceeded{SEN: "SEN-1", Amount: "USD 1.00"}, "InvoiceNumber"},
		{"payment without SEN", mail.KindPaymentSucceeded, &mail.PaymentSucceeded{Amount: "USD 1.00", InvoiceNumber: "INV-1"}, "SEN"},
		{"suspension without amount", mail.KindLicenceSuspended, mail.LicenceSuspended{SEN: "SEN-1", InvoiceNumber: "INV-1"}, "Amount"},
		{"suspension link without deadline", mail.KindLicenceSuspended, mail.LicenceSuspended{SEN: "SEN-1", Amount: "USD 1.00", InvoiceNumber: "INV-1",
			UpdateURL: "https://x/l/1"}, "Deadline"},
		{"card change without card", mail.KindCardUpdated, mail.CardUpdated{SEN: "SEN-1"}, "Card"},
		{"charge without amount", mail.KindCardUpdated, mail.CardUpdated{SEN: "SEN-1", Card: "visa •••• 4242", ChargedNow: true}, "Amount"},
		{"wrong billing data", mail.KindPaymentFailed, mail.PaymentSucceeded{SEN: "SEN-1", Amount: "USD 1.00", InvoiceNumber: "INV-1"}, "want mail.PaymentFailed"},
	}
	for _, c := range cases {
		_, _, _, err := mail.Render(c.kind, c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

func TestRender_ActorDefaultsToSalesTeam(t *testing.T) {
	for _, by := range []string{"", "<@U0123>"} {
		_, text, html, err := mail.Render(mail.KindContactRemoved, mail.ContactRemoved{SEN: "SEN-1", Role: "billing", RemovedBy: by})
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{text, html} {
			if !strings.Contains(body, "by our sales team") || strings.Contains(body, "U0123") {
				t.Errorf("RemovedBy %q: body does not name our sales team:\n%s", by, body)
			}
		}
	}
}

func TestRender_SubjectIsOneLine(t *testing.T) {
	subject, _, _, err := mail.Render(mail.KindPromotedNotice, mail.PromotedNotice{SEN: "SEN-1", Role: "billing",
		NewPrimary: "bob@x.test\r\nBcc: victim@x.test"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(subject, "\r\n") {
		t.Errorf("subject = %q", subject)
	}
}

func TestMessage_WithLinks(t *testing.T) {
	m := mail.Message{Key: "k", Links: []string{"a"}}
	m2 := m.WithLinks("b", "c")
	if strings.Join(m2.Links, ",") != "a,b,c" || len(m.Links) != 1 {
		t.Errorf("WithLinks: %v (original %v)", m2.Links, m.Links)
	}
}

// The billing mails say only what applies: no amount owed when nothing is
// past due, no retry date after a hard decline, no reactivation unless it
// happened.
func TestRender_BillingBranches(t *testing.T) {
	retry := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		kind mail.Kind
		data any
		not  []string
	}{
		{"card link, not past due", mail.KindUpdateCard, mail.UpdateCard{SEN: "SEN-1", URL: "https://x/l/1", Deadline: deadline, AmountDue: "USD 10.00"},
			[]string{"USD 10.00", "past due", "site admins (the card of an annual"}},
		{"card link, past due", mail.KindUpdateCard, mail.UpdateCard{SEN: "SEN-1", URL: "https://x/l/1", Deadline: deadline, PastDue: true, AmountDue: "USD 10.00"},
			[]string{"next billing date"}},
		{"hard decline", mail.KindPaymentFailed, mail.PaymentFailed{SEN: "SEN-1", Amount: "USD 1.00", InvoiceNumber: "INV-1", Hard: true, NextRetry: retry},
			[]string{"try again", "Thursday 3 December", "still unpaid on", "works once"}},
		{"soft decline with a link", mail.KindPaymentFailed, mail.PaymentFailed{SEN: "SEN-1", Amount: "USD 1.00", InvoiceNumber: "INV-1", NextRetry: retry,
			UpdateURL: "https://x/l/1", Deadline: deadline},
			[]string{"a new card is needed", "ask a site admin"}},
		{"paid, not reactivated", mail.KindPaymentSucceeded, mail.PaymentSucceeded{SEN: "SEN-1", Amount: "USD 1.00", InvoiceNumber: "INV-1"},
			[]string{"active again", "charged to", "past due", "suspended"}},
		{"paid when only past due", mail.KindPaymentSucceeded, mail.PaymentSucceeded{SEN: "SEN-1", Amount: "USD 1.00", InvoiceNumber: "INV-1", Reactivated: true, Was: "past_due"},
			[]string{"suspended", "active again"}},
		{"suspended with a link", mail.KindLicenceSuspended, mail.LicenceSuspended{SEN: "SEN-1", Amount: "USD 1.00", InvoiceNumber: "INV-1",
			UpdateURL: "https://x/l/1", Deadline: deadline},
			[]string{"ask a site admin", "Ask a site admin"}},
		{"link sent separately", mail.KindPaymentFailed, mail.PaymentFailed{SEN: "SEN-1", Amount: "USD 1.00", InvoiceNumber: "INV-1", LinkSent: true},
			[]string{"ask a site admin"}},
		{"suspended, link sent separately", mail.KindLicenceSuspended, mail.LicenceSuspended{SEN: "SEN-1", Amount: "USD 1.00", InvoiceNumber: "INV-1", LinkSent: true},
			[]string{"Ask a site admin"}},
		{"card changed, nothing charged", mail.KindCardUpdated, mail.CardUpdated{SEN: "SEN-1", Card: "visa •••• 4242", Amount: "USD 10.00"},
			[]string{"USD 10.00", "being charged"}},
	}
	for _, c := range cases {
		_, text, html, err := mail.Render(c.kind, c.data)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		for _, body := range []struct{ name, s string }{{"text", text}, {"html", html}} {
			for _, n := range c.not {
				if strings.Contains(body.s, n) {
					t.Errorf("%s %s: should not say %q:\n%s", c.name, body.name, n, body.s)
				}
			}
		}
	}
}

// The password-changed mail points to the reset page when it knows where
// that is.
func TestRender_PasswordChangedLinksToReset(t *testing.T) {
	const forgot = "https://desk.example/password/forgot"
	_, text, html, err := mail.Render(mail.KindPasswordChanged, mail.PasswordChanged{When: deadline, ForgotURL: forgot})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "reset your password now at "+forgot) || !strings.Contains(html, `<a href="`+forgot+`">reset your password now</a>`) {
		t.Errorf("no link to %s:\n%s\n%s", forgot, text, html)
	}
}

// TestFromName_IsTheNameTheMailsSignWith: with the default MAIL_FROM, the
// From display name is the product name every mail signs with.
func TestFromName_IsTheNameTheMailsSignWith(t *testing.T) {
	cfg := config.Load(func(string) string { return "" })
	s, err := mail.NewSMTP("smtp://mail.example.com", cfg.MailFrom)
	if err != nil {
		t.Fatal(err)
	}
	from, err := netmail.ParseAddress(s.From())
	if err != nil || from.Name != licensing.DefaultBrandName {
		t.Fatalf("From %q (%v); want the display name %q", s.From(), err, licensing.DefaultBrandName)
	}
	for _, c := range renderCases() {
		_, text, html, err := mail.Render(c.kind, c.data)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "This email was sent by "+from.Name+",") || !strings.Contains(html, "This email was sent by "+from.Name+",") {
			t.Errorf("%s does not sign with the From name %q", c.kind, from.Name)
		}
	}
	// A name in MAIL_FROM is kept.
	if s, err := mail.NewSMTP("smtp://mail.example.com", "Acme Licensing <desk@acme.test>"); err != nil || s.From() != `"Acme Licensing" <desk@acme.test>` {
		t.Errorf("From = %v, %v", s, err)
	}
}

// TestRenderAs_SignsWithTheBrandAndItsSupport: BRAND_NAME signs every mail
// and the support contact is in every footer.
func TestRenderAs_SignsWithTheBrandAndItsSupport(t *testing.T) {
	b := licensing.Brand{Name: "Acme Licensing", SupportEmail: "help@acme.test", SupportURL: "https://acme.test/help"}
	for _, c := range renderCases() {
		subject, text, html, err := mail.RenderAs(b, c.kind, c.data)
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{text, html} {
			if !strings.Contains(body, "This email was sent by Acme Licensing,") || strings.Contains(body, licensing.DefaultBrandName) {
				t.Errorf("%s does not sign as the brand:\n%s", c.kind, body)
			}
			if !strings.Contains(body, "help@acme.test") || !strings.Contains(body, "https://acme.test/help") {
				t.Errorf("%s has no support contact:\n%s", c.kind, body)
			}
		}
		if strings.Contains(subject, licensing.DefaultBrandName) {
			t.Errorf("%s subject %q names the default brand", c.kind, subject)
		}
	}
	// Without support settings the footer still says whom to ask.
	_, text, _, _ := mail.Render(mail.KindPasswordReset, mail.PasswordReset{URL: "https://x.test/r", Deadline: deadline})
	if !strings.Contains(text, "Questions? Contact our sales team") {
		t.Errorf("no contact line without support settings:\n%s", text)
	}
	// The From name follows the brand unless MAIL_FROM names one.
	s, _ := mail.NewSMTP("smtp://mail.example.com", "desk@acme.test")
	s.SignAs("Acme Licensing")
	if s.From() != `"Acme Licensing" <desk@acme.test>` {
		t.Errorf("From = %s", s.From())
	}
	s, _ = mail.NewSMTP("smtp://mail.example.com", "Desk <desk@acme.test>")
	s.SignAs("Acme Licensing")
	if s.From() != `"Desk" <desk@acme.test>` {
		t.Errorf("From = %s, want MAIL_FROM's own name", s.From())
	}
}

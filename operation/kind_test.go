package operation

import (
	"testing"
	"time"
)

// Every workflow ID builder's output reads back as its kind, and what is
// not one of ours reads as nothing.
func TestKindOf_ReadsBackEveryID(t *testing.T) {
	for id, want := range map[string]Kind{
		MoveID("SEN-1000001", "new@x.test"):                        KindMove,
		VerifyID("SEN-1000001", "caller@x.test"):                   KindVerify,
		ContactAddID("SEN-1000001", "billing", "a@x.test"):         KindContactAdd,
		ContactRemoveID("SEN-1000001", "technical", "a@x.test"):    KindContactRemove,
		PromoteID("SEN-1000001", "a@x.test"):                       KindPromote,
		PromoteSelfID("SEN-1000001", "billing", "a@x.test"):        KindPromoteSelf,
		CardUpdateID("SEN-1000001"):                                KindCard,
		AccountCardUpdateID("SEN-1000001", "a@x.test"):             KindCard,
		InvoiceID("SEN-1000001-2026-11-01"):                        KindInvoice,
		BillingID("SEN-1000001"):                                   KindBilling,
		PasswordResetID("a@x.test"):                                KindPasswordReset,
		PasswordChangedID("a@x.test", time.Unix(1_767_225_600, 0)): KindPasswordChanged,
		InviteID("SEN-3000001", "a@x.test"):                        KindInvite,
		WebhooksID("ep_abcdefghijklmnop"):                          KindWebhooks,
		SignInLockedID("a@x.test", time.Unix(1_767_225_600, 0)):    KindSignInLocked,
	} {
		if got, ok := KindOf(id); !ok || got != want {
			t.Errorf("KindOf(%q) = %q, %v; want %q", id, got, ok, want)
		}
	}
	for _, id := range []string{"", "move", "move/", "frobnicate/SEN-1", "SEN-1000001"} {
		if k, ok := KindOf(id); ok {
			t.Errorf("KindOf(%q) = %q; want not ours", id, k)
		}
	}
	if len(Kinds) != 14 {
		t.Errorf("%d kinds; a new kind needs an ID builder and a line here", len(Kinds))
	}
}

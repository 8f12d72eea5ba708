package workflows

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"

	"licensedesk/activities"
	"licensedesk/licensing"
	"licensedesk/operation"
)

// Review #7: every change of contacts a person makes tells the licence's
// primary contacts, naming who and through what; the person who did it
// and the person demoted (told by their own mail) are left out.

func TestContactRemove_TellsThePrimaries(t *testing.T) {
	e := newMoveEnv(t)
	e.OnRequestCancelExternalWorkflow(mock.Anything, mock.Anything, mock.Anything).Return(nil).Maybe()
	e.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: operation.ContactRemoveID(sen, licensing.Technical, "bob@acme.test")})
	e.ExecuteWorkflow(ContactRemove, ContactInput{SEN: sen, Role: licensing.Technical, Email: "bob@acme.test", By: Requester{Email: "carol@acme.test"}})
	if len(e.primaries) != 1 {
		t.Fatalf("primaries told %+v", e.primaries)
	}
	p := e.primaries[0]
	if p.Change != "removed" || p.Contact != "bob@acme.test" || p.By != "carol@acme.test" || p.Via != "account" ||
		!slices.Equal(p.Except, []licensing.Email{"carol@acme.test"}) || !slices.Equal(p.Roles, []licensing.Role{licensing.Technical}) {
		t.Errorf("told %+v", p)
	}
}

func TestPromoteSelf_TellsTheOtherPrimary(t *testing.T) {
	e := newAccountEnv(t, "promote-self/test")
	e.promoteOut = activities.PromoteContactOutput{Promoted: true, Former: "alice@acme.test"}
	e.ExecuteWorkflow(PromoteSelf, promoteSelfInput())
	e.result(t)
	if len(e.notified) != 1 || e.notified[0].Via != "account" {
		t.Errorf("the former primary's mail %+v; want it to say through the account page", e.notified)
	}
	if len(e.primaries) != 1 || e.primaries[0].Change != "promoted" || e.primaries[0].Contact != "bob@acme.test" ||
		!slices.Equal(e.primaries[0].Former, []licensing.Email{"alice@acme.test"}) || !slices.Equal(e.primaries[0].Except, []licensing.Email{"alice@acme.test"}) {
		t.Errorf("primaries told %+v", e.primaries)
	}
}

func TestPromote_LinkTellsTheOtherPrimary(t *testing.T) {
	e := newMoveEnv(t)
	e.promoteOut = activities.RedeemPromotionOutput{Email: "bob@acme.test", Roles: []licensing.Role{licensing.Technical},
		Demoted: []activities.Demotion{{Role: licensing.Technical, Email: "alice@acme.test"}}}
	e.update(t, day, PromoteUpdate, PromoteInput{})
	e.ExecuteWorkflow(Promote, PromoteOfferInput{SEN: sen, Email: "bob@acme.test", Roles: []licensing.Role{licensing.Technical}})
	if len(e.primaries) != 1 || e.primaries[0].Via != "link" || e.primaries[0].Change != "promoted" || !slices.Equal(e.primaries[0].Except, []licensing.Email{"alice@acme.test"}) {
		t.Errorf("primaries told %+v", e.primaries)
	}
	if len(e.notified) != 1 || e.notified[0].Via != "link" {
		t.Errorf("demoted told %+v", e.notified)
	}
}

// A move tells the primaries once the new contact is added, before they
// can take the role; the contact who approved it is not told again.
func TestMove_TellsThePrimariesBeforeThePromotion(t *testing.T) {
	e := newMoveEnv(t)
	e.update(t, 2*time.Hour, DecideUpdate, DecideInput{Approve: true})
	e.RegisterDelayedCallback(func() {
		if len(e.primaries) != 1 {
			t.Errorf("at the promotion step the primaries were told %d times; want once", len(e.primaries))
		}
	}, 3*time.Hour)
	e.update(t, 26*time.Hour, PromoteUpdate, PromoteInput{})
	e.ExecuteWorkflow(Move, moveInput())
	e.result(t)
	if len(e.primaries) != 1 || e.primaries[0].Change != "move" || e.primaries[0].ApprovedBy != "alice@acme.test" ||
		!slices.Equal(e.primaries[0].Except, []licensing.Email{"alice@acme.test"}) || e.primaries[0].Contact != "new@acme.test" {
		t.Errorf("primaries told %+v", e.primaries)
	}
}

// Review #14: sales cancelling an operation tells whoever it waited on.
func TestCancel_TellsThePeopleItWaitedOn(t *testing.T) {
	cancelAfter := func(e *moveEnv, d time.Duration, by string) {
		e.RegisterDelayedCallback(func() {
			if by != "" {
				e.SignalWorkflow(CancelReasonSignal, by)
			}
			e.CancelWorkflow()
		}, d)
	}
	cancelled := func(e *moveEnv) []activities.NotifyInput {
		var out []activities.NotifyInput
		for _, n := range e.notified {
			if n.Kind == activities.NotifyRequestCancelled {
				out = append(out, n)
			}
		}
		return out
	}

	t.Run("move, waiting for a confirmation", func(t *testing.T) {
		e := newMoveEnv(t)
		cancelAfter(e, day, "<@U2>")
		e.ExecuteWorkflow(Move, moveInput())
		got := cancelled(e)
		if len(got) != 1 || got[0].To != "alice@acme.test" || got[0].Operation != "move" || got[0].NewEmail != "new@acme.test" || got[0].At.IsZero() {
			t.Errorf("told %+v", got)
		}
	})
	t.Run("move, waiting for the new contact", func(t *testing.T) {
		e := newMoveEnv(t)
		e.update(t, time.Hour, DecideUpdate, DecideInput{Approve: true})
		cancelAfter(e, 2*day, "<@U2>")
		e.ExecuteWorkflow(Move, moveInput())
		if got := cancelled(e); len(got) != 0 {
			t.Errorf("told %+v; the new contact gets the move's own cancelled mail", got)
		}
		for _, n := range e.notified {
			if n.Kind == activities.NotifyMoveCancelled && n.Reason != "Our sales team cancelled it." {
				t.Errorf("the customer reads the reason %q", n.Reason)
			}
		}
	})
	t.Run("verify", func(t *testing.T) {
		e := newMoveEnv(t)
		e.OnActivity(a.PlanVerify, mock.Anything, mock.Anything).Return(activities.PlanVerifyOutput{Confirmers: []licensing.Email{"alice@acme.test", "erin@acme.test"}}, nil)
		cancelAfter(e, day, "<@U2>")
		e.ExecuteWorkflow(Verify, VerifyInput{SEN: sen, Requester: "x@y.test", By: Requester{SlackUser: "U1"}})
		got := cancelled(e)
		if len(got) != 2 || got[0].Operation != "verify" || got[0].NewEmail != "x@y.test" {
			t.Errorf("told %+v", got)
		}
	})
	t.Run("an offer ended by a removal, not by sales", func(t *testing.T) {
		e := newMoveEnv(t)
		cancelAfter(e, day, "")
		e.ExecuteWorkflow(Promote, PromoteOfferInput{SEN: sen, Email: "bob@acme.test", Roles: []licensing.Role{licensing.Technical}})
		if got := cancelled(e); len(got) != 0 {
			t.Errorf("told %+v; the person removed is told by the removal", got)
		}
	})
	t.Run("an offer cancelled by sales", func(t *testing.T) {
		e := newMoveEnv(t)
		cancelAfter(e, day, "<@U2>")
		e.ExecuteWorkflow(Promote, PromoteOfferInput{SEN: sen, Email: "bob@acme.test", Roles: []licensing.Role{licensing.Technical}})
		if got := cancelled(e); len(got) != 1 || got[0].To != "bob@acme.test" || got[0].Operation != "promote" {
			t.Errorf("told %+v", got)
		}
	})
}

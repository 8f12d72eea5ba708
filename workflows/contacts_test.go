package workflows

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/operation"
)

func TestContactRemove_RefusedPrimaryEndsWithTheReason(t *testing.T) {
	e := newMoveEnv(t)
	e.removeErr = temporal.NewNonRetryableApplicationError("alice@acme.test is the primary billing contact of SEN-1000001; someone else must promote themselves first", string(licensing.FailedPrecondition), nil)
	e.ExecuteWorkflow(ContactRemove, ContactInput{SEN: sen, Role: licensing.Billing, Email: "alice@acme.test", By: Requester{SlackUser: "U1", Channel: "C1"}})
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil || res.Outcome != operation.Failure {
		t.Fatalf("result %+v, %v", res, err)
	}
	if len(e.notified) != 0 {
		t.Error("a refused removal sent mail")
	}
}

// A removal that withdrew the person's links from other operations tells
// each of them (not itself), and a workflow already gone is no failure.
func TestContactRemove_TellsTheOperationsThatHeldTheirLinks(t *testing.T) {
	e := newMoveEnv(t)
	self := operation.ContactRemoveID(sen, licensing.Technical, "bob@acme.test")
	e.withdrawn = []string{"move/SEN-1000001/zed@newco.test", self, "verify/SEN-1000001/x@y.test"}
	var told []string
	e.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", PersonLeftSignal, mock.Anything).Return(
		func(_, id, _, _ string, arg any) error {
			if p := arg.(PersonLeft); p.Email != "bob@acme.test" || p.SEN != sen {
				t.Errorf("told %+v", p)
			}
			told = append(told, id)
			if id == "verify/SEN-1000001/x@y.test" {
				return errors.New("workflow execution already completed")
			}
			return nil
		})
	e.OnRequestCancelExternalWorkflow(mock.Anything, mock.Anything, mock.Anything).Return(nil).Maybe()
	e.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: self})
	e.ExecuteWorkflow(ContactRemove, ContactInput{SEN: sen, Role: licensing.Technical, Email: "bob@acme.test", By: Requester{SlackUser: "U1", Channel: "C1"}})
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil || res.Outcome != operation.Completed {
		t.Fatalf("result %+v, %v", res, err)
	}
	if !slices.Equal(told, []string{"move/SEN-1000001/zed@newco.test", "verify/SEN-1000001/x@y.test"}) {
		t.Errorf("told %v", told)
	}
}

// The person offered the promotion leaves the licence: the offer ends then.
func TestPromote_EndsWhenThePersonLeaves(t *testing.T) {
	e := newMoveEnv(t)
	e.RegisterDelayedCallback(func() { e.SignalWorkflow(PersonLeftSignal, PersonLeft{SEN: sen, Email: "bob@acme.test"}) }, day)
	e.ExecuteWorkflow(Promote, PromoteOfferInput{SEN: sen, Email: "bob@acme.test", Roles: []licensing.Role{licensing.Technical}})
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil || res.Outcome != operation.Failure || len(e.sent) != 1 || e.revoked == 0 {
		t.Fatalf("result %+v, %v; %d mails, %d revokes", res, err, len(e.sent), e.revoked)
	}
}

func TestPromote_ExpiresAfter14DaysWithOneReminder(t *testing.T) {
	e := newMoveEnv(t)
	e.ExecuteWorkflow(Promote, PromoteOfferInput{SEN: sen, Email: "bob@acme.test", Roles: []licensing.Role{licensing.Technical}})
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil || res.Outcome != operation.Expired {
		t.Fatalf("result %+v, %v", res, err)
	}
	if len(e.sent) != 2 || !e.sent[1].Reminder {
		t.Errorf("sent = %+v", e.sent)
	}
}

func TestPromote_PressedLinkPromotesAndTellsTheFormerPrimary(t *testing.T) {
	e := newMoveEnv(t)
	e.promoteOut = activities.RedeemPromotionOutput{
		Email: "bob@acme.test", Roles: []licensing.Role{licensing.Technical},
		Demoted: []activities.Demotion{{Role: licensing.Technical, Email: "alice@acme.test"}},
	}
	e.update(t, 5*day, PromoteUpdate, PromoteInput{})
	e.ExecuteWorkflow(Promote, PromoteOfferInput{SEN: sen, Email: "bob@acme.test", Roles: []licensing.Role{licensing.Technical}})
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil || res.Outcome != operation.Completed {
		t.Fatalf("result %+v, %v", res, err)
	}
	if len(e.notified) != 1 || e.notified[0].To != "alice@acme.test" || e.notified[0].Kind != activities.NotifyPromoted {
		t.Errorf("notified = %+v", e.notified)
	}
}

// TestPromote_DeclineEndsTheOffer (defect 2): Decline on the offer's link
// ends it at once (its links revoked) and changes nothing.
func TestPromote_DeclineEndsTheOffer(t *testing.T) {
	e := newMoveEnv(t)
	e.update(t, 2*day, DeclinePromotionUpdate, PromoteInput{TokenHash: []byte("p")})
	e.ExecuteWorkflow(Promote, PromoteOfferInput{SEN: sen, Email: "bob@acme.test", Roles: []licensing.Role{licensing.Technical}, OfferedBy: "alice@acme.test"})
	var res Result
	if err := e.GetWorkflowResult(&res); err != nil || res.Outcome != operation.Declined ||
		res.Message != "bob@acme.test declined to become the primary technical contact of SEN-1000001; nothing changed." {
		t.Fatalf("result %+v, %v", res, err)
	}
	if len(e.notified) != 0 {
		t.Errorf("notified %+v; nobody was demoted", e.notified)
	}
	if e.revoked == 0 || len(e.sent) != 1 || e.sent[0].RequestedAt.IsZero() {
		t.Errorf("revoked %d, sent %+v; want the links revoked and one mail saying when it was asked", e.revoked, e.sent)
	}
}

// A removal that wins the race against a promotion leaves the promotion
// link without effect: RedeemPromotion reports the person is no longer a
// contact, the update fails with that message, and the offer stays open
// until it expires or is cancelled (the removal cancels it).
func TestPromote_RemovalWinsTheRace(t *testing.T) {
	e := newMoveEnv(t)
	e.promoteErr = temporal.NewNonRetryableApplicationError("bob@acme.test is not a technical contact of this licence", string(licensing.NotFound), nil)
	var updateErr error
	e.RegisterDelayedCallback(func() {
		e.UpdateWorkflow(PromoteUpdate, "", &testsuite_callback{onComplete: func(err error) { updateErr = err }}, PromoteInput{})
	}, time.Hour)
	e.RegisterDelayedCallback(func() { e.CancelWorkflow() }, 2*time.Hour)
	e.ExecuteWorkflow(Promote, PromoteOfferInput{SEN: sen, Email: "bob@acme.test", Roles: []licensing.Role{licensing.Technical}})
	if de := temporalerr.ToDomain(updateErr); de == nil || de.Code != licensing.NotFound {
		t.Fatalf("update error = %v; want NotFound", updateErr)
	}
	if e.status(t).Outcome != operation.Cancelled {
		t.Errorf("status = %+v", e.status(t))
	}
}

// Adding a contact offers them the primary role only when asked: without
// OfferPrimary no Promote offer starts, and the invitation says how to
// take the role from the account page instead. With it, the offer's mail
// is the only one (review #12: it says they were added, and its page sets
// up the account too), and the primary contacts hear of the offer first
// (review #7).
func TestContactAdd_OffersPrimaryOnlyWhenAsked(t *testing.T) {
	for _, offer := range []bool{false, true} {
		e := newMoveEnv(t)
		offers := 0
		e.RegisterWorkflow(Promote)
		e.OnWorkflow(Promote, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in PromoteOfferInput) (Result, error) {
			offers++
			if !in.JustAdded || len(e.primaries) != 1 {
				t.Errorf("offer %+v after %d notices to the primaries; want JustAdded, after the notice", in, len(e.primaries))
			}
			return Result{}, nil
		})
		e.ExecuteWorkflow(ContactAdd, ContactInput{SEN: sen, Role: licensing.Technical, Email: "dana@acme.test",
			By: Requester{SlackUser: "U1", Channel: "C1"}, OfferPrimary: offer})
		var res Result
		if err := e.GetWorkflowResult(&res); err != nil || res.Outcome != operation.Completed {
			t.Fatalf("offer %v: result %+v, %v", offer, res, err)
		}
		if want := map[bool]int{false: 0, true: 1}[offer]; offers != want {
			t.Errorf("offer %v: %d promotion offers started; want %d", offer, offers, want)
		}
		switch {
		case !offer && (len(e.sent) != 1 || e.sent[0].Purpose != licensing.PurposeCompleteAccount || e.sent[0].OfferPrimary):
			t.Errorf("offer %v: invitation %+v", offer, e.sent)
		case offer && len(e.sent) != 0:
			t.Errorf("offer %v: a separate invitation %+v; the offer's mail is the only one", offer, e.sent)
		}
		if len(e.primaries) != 1 || e.primaries[0].Change != "added" || e.primaries[0].Offered != offer || e.primaries[0].Via != "slack" ||
			e.primaries[0].Contact != "dana@acme.test" || len(e.primaries[0].Except) != 0 {
			t.Errorf("offer %v: primaries told %+v", offer, e.primaries)
		}
	}
}

// TestContactAdd_FromTheAccountPageNamesTheCustomer (defect 6): a contact
// added from alice's account page is invited, and offered the primary role,
// by alice@acme.test, not by "our sales team".
func TestContactAdd_FromTheAccountPageNamesTheCustomer(t *testing.T) {
	e := newMoveEnv(t)
	var offeredBy string
	e.RegisterWorkflow(Promote)
	e.OnWorkflow(Promote, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in PromoteOfferInput) (Result, error) {
		offeredBy = in.OfferedBy
		return Result{}, nil
	})
	e.ExecuteWorkflow(ContactAdd, ContactInput{SEN: sen, Role: licensing.Billing, Email: "dana@new.test",
		By: Requester{Email: "alice@acme.test"}, OfferPrimary: false})
	if len(e.sent) != 1 || e.sent[0].RequestedBy != "alice@acme.test" {
		t.Fatalf("invitation %+v; want it by alice@acme.test", e.sent)
	}
	if got := licensing.ActorName(e.sent[0].RequestedBy); got != "alice@acme.test" {
		t.Errorf("the mail names %q", got)
	}
	if len(e.primaries) != 1 || e.primaries[0].By != "alice@acme.test" || e.primaries[0].Via != "account" || !slices.Equal(e.primaries[0].Except, []licensing.Email{"alice@acme.test"}) {
		t.Errorf("primaries told %+v; want by alice on the account page, not alice herself", e.primaries)
	}
	e = newMoveEnv(t)
	e.RegisterWorkflow(Promote)
	e.OnWorkflow(Promote, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in PromoteOfferInput) (Result, error) {
		offeredBy = in.OfferedBy
		return Result{}, nil
	})
	e.ExecuteWorkflow(ContactAdd, ContactInput{SEN: sen, Role: licensing.Billing, Email: "dana@new.test",
		By: Requester{Email: "alice@acme.test"}, OfferPrimary: true})
	if offeredBy != "alice@acme.test" {
		t.Fatalf("offer by %q; want alice@acme.test", offeredBy)
	}
	if got := licensing.ActorName(Requester{SlackUser: "U1"}.String()); got != licensing.OurSalesTeam {
		t.Errorf("a Slack user reads as %q", got)
	}
}

package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"licensedesk/licensing"
	"licensedesk/postgres"
)

func newLink(t *testing.T, db *postgres.DB, purpose licensing.LinkPurpose, workflowID string, ttl time.Duration) string {
	t.Helper()
	token, _, err := db.CreateLink(context.Background(), postgres.NewLink{
		Purpose: purpose, Email: "alice@acme.test", SEN: "SEN-1000001", WorkflowID: workflowID, TTL: ttl,
		Data: map[string]any{"roles": []string{"billing"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func TestLinks_StoreOnlyAHashAndLookUpWithoutSpending(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	token := newLink(t, db, "confirm_move", "move/x", time.Hour)
	if len(token) < 43 {
		t.Fatalf("token %q is shorter than 32 bytes of base64url", token)
	}
	var stored int
	_ = db.Pool().QueryRow(ctx, `SELECT count(*) FROM link_tokens WHERE token_hash = $1`, []byte(token)).Scan(&stored)
	if stored != 0 {
		t.Fatal("the raw token is stored")
	}
	for range 2 { // looking twice changes nothing
		k, err := db.LookupLink(ctx, token)
		if err != nil || k.Email != "alice@acme.test" || k.Purpose != "confirm_move" || k.SEN != "SEN-1000001" {
			t.Fatalf("lookup = %+v, %v", k, err)
		}
	}
}

func TestLinks_BadTokensAreRefusedWithTheRightCode(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	by := licensing.Actor{Kind: "link"}
	expired := newLink(t, db, "confirm_move", "move/x", time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	used := newLink(t, db, "confirm_move", "move/x", time.Hour)
	if _, err := db.SpendLink(ctx, postgres.TokenHash(used), "confirm_move", "move/x", by, "test", ""); err != nil {
		t.Fatal(err)
	}
	revoked := newLink(t, db, "confirm_move", "move/y", time.Hour)
	if _, err := db.RevokeLinks(ctx, "move/y"); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		token string
		want  licensing.Code
	}{
		"unknown": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", licensing.NotFound},
		"expired": {expired, licensing.Gone},
		"used":    {used, licensing.Gone},
		"revoked": {revoked, licensing.Gone},
	} {
		if _, err := db.LookupLink(ctx, tc.token); licensing.ErrorCode(err) != tc.want {
			t.Errorf("%s: lookup err = %v; want %s", name, err, tc.want)
		}
		if _, err := db.SpendLink(ctx, postgres.TokenHash(tc.token), "confirm_move", "move/x", by, "test", ""); licensing.ErrorCode(err) != tc.want && !(name == "revoked" && licensing.ErrorCode(err) == licensing.NotFound) {
			t.Errorf("%s: spend err = %v; want %s", name, err, tc.want)
		}
	}
}

// A link acts only for the operation and purpose it was sent for: someone
// holding a token cannot redeem it in another workflow or as another kind
// of link.
func TestLinks_SomeoneElsesTokenDoesNotWorkElsewhere(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	by := licensing.Actor{Kind: "link"}
	token := newLink(t, db, "promote", "promote/SEN-1000001/alice@acme.test", time.Hour)
	if _, err := db.SpendLink(ctx, postgres.TokenHash(token), "promote", "move/SEN-1000001/other@acme.test", by, "test", ""); licensing.ErrorCode(err) != licensing.NotFound {
		t.Errorf("other workflow: %v; want NotFound", err)
	}
	if _, err := db.SpendLink(ctx, postgres.TokenHash(token), "confirm_move", "promote/SEN-1000001/alice@acme.test", by, "test", ""); licensing.ErrorCode(err) != licensing.NotFound {
		t.Errorf("other purpose: %v; want NotFound", err)
	}
	if _, err := db.LookupLink(ctx, token); err != nil {
		t.Errorf("failed attempts spent the link: %v", err)
	}
}

func TestLinks_ConcurrentClicksSpendOnce(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	token := newLink(t, db, "confirm_move", "move/x", time.Hour)
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for range 20 {
		wg.Go(func() {
			if _, err := db.SpendLink(ctx, postgres.TokenHash(token), "confirm_move", "move/x", licensing.Actor{Kind: "link"}, "test", ""); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d of 20 concurrent spends succeeded; want exactly 1", ok)
	}
}

// People leave between a mail and a click. Removing bob revokes the links
// he holds for the licence; and a link whose person lost the right to use
// it (here by an edit that revoked nothing) is refused in the transaction
// that would spend it, and stays unspent.
func TestLinks_APersonRemovedMeanwhileCannotAct(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	mk := func(purpose licensing.LinkPurpose, to licensing.Email) string {
		t.Helper()
		token, _, err := db.CreateLink(ctx, postgres.NewLink{Purpose: purpose, Email: to, SEN: "SEN-1000001",
			WorkflowID: "move/SEN-1000001/zed@newco.test", TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return token
	}

	t.Run("removing a contact revokes their links", func(t *testing.T) {
		bob := mk("confirm_move", "bob@acme.test")
		if _, err := db.RemoveContact(ctx, "SEN-1000001", licensing.Technical, "bob@acme.test", system); err != nil {
			t.Fatal(err)
		}
		if _, err := db.LookupLink(ctx, bob); licensing.ErrorCode(err) != licensing.Gone {
			t.Errorf("bob's link after his removal: %v; want Gone", err)
		}
		_, err := db.SpendLink(ctx, postgres.TokenHash(bob), "confirm_move", "move/SEN-1000001/zed@newco.test", licensing.Actor{Kind: "link"}, "confirm_move.approve", "")
		if licensing.ErrorCode(err) != licensing.Gone {
			t.Errorf("spending it: %v; want Gone", err)
		}
		// The move that waited on him is named, on every asking (an
		// activity retried after the removal committed).
		for range 2 {
			if ids, err := db.WithdrawnLinkWorkflows(ctx, "SEN-1000001", "bob@acme.test"); err != nil || !slices.Equal(ids, []string{"move/SEN-1000001/zed@newco.test"}) {
				t.Errorf("WithdrawnLinkWorkflows = %v, %v", ids, err)
			}
		}
	})

	t.Run("a link is re-checked where it is spent", func(t *testing.T) {
		carol := mk("confirm_move", "carol@acme.test") // a site admin may confirm
		if _, err := db.Pool().Exec(ctx, `DELETE FROM site_admins WHERE account_id = (SELECT id FROM accounts WHERE email = 'carol@acme.test')`); err != nil {
			t.Fatal(err)
		}
		_, err := db.SpendLink(ctx, postgres.TokenHash(carol), "confirm_move", "move/SEN-1000001/zed@newco.test", licensing.Actor{Kind: "link"}, "confirm_move.approve", "")
		if licensing.ErrorCode(err) != licensing.Forbidden {
			t.Errorf("carol, no longer a site admin: %v; want Forbidden", err)
		}
		if _, err := db.LookupLink(ctx, carol); err != nil {
			t.Errorf("the refused link was spent: %v", err)
		}
	})

	t.Run("someone keeping another role keeps their links", func(t *testing.T) {
		alice := mk("card_update", "alice@acme.test")
		if _, err := db.EnsureContact(ctx, "SEN-1000001", licensing.Technical, "dave@globex.test", system); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.PromoteContact(ctx, "SEN-1000001", licensing.Technical, "dave@globex.test", system); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RemoveContact(ctx, "SEN-1000001", licensing.Technical, "alice@acme.test", system); err != nil {
			t.Fatal(err)
		}
		if _, err := db.LookupLink(ctx, alice); err != nil {
			t.Errorf("alice is still the billing contact, yet her card link went: %v", err)
		}
		if ids, err := db.WithdrawnLinkWorkflows(ctx, "SEN-1000001", "alice@acme.test"); err != nil || len(ids) != 0 {
			t.Errorf("someone still on the licence has withdrawn links: %v, %v", ids, err)
		}
	})
}

// TestLinkState_TellsUsedExpiredAndRevokedApart (defect 5): a link that no
// longer works still says how it ended, when, and the decision recorded.
func TestLinkState_TellsUsedExpiredAndRevokedApart(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	expired := newLink(t, db, "confirm_move", "move/x", time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	used := newLink(t, db, "confirm_move", "move/x", time.Hour)
	if _, err := db.SpendLink(ctx, postgres.TokenHash(used), "confirm_move", "move/x", licensing.Actor{Kind: "link"}, "confirm_move.approve", ""); err != nil {
		t.Fatal(err)
	}
	revoked := newLink(t, db, "confirm_move", "move/y", time.Hour)
	if _, err := db.RevokeLinks(ctx, "move/y"); err != nil {
		t.Fatal(err)
	}
	st, err := db.LinkState(ctx, used)
	if err != nil || st.UsedAt.IsZero() || !st.RevokedAt.IsZero() || st.Expired || st.Action != "confirm_move.approve" || st.Email != "alice@acme.test" || st.SEN != "SEN-1000001" {
		t.Errorf("used: %+v, %v", st, err)
	}
	if st, err := db.LinkState(ctx, expired); err != nil || !st.Expired || !st.UsedAt.IsZero() || st.Action != "" {
		t.Errorf("expired: %+v, %v", st, err)
	}
	if st, err := db.LinkState(ctx, revoked); err != nil || st.RevokedAt.IsZero() || st.Expired || st.CreatedAt.IsZero() {
		t.Errorf("revoked: %+v, %v", st, err)
	}
	if _, err := db.LinkState(ctx, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); licensing.ErrorCode(err) != licensing.NotFound {
		t.Errorf("unknown: %v", err)
	}
}

// TestLinks_TheSpenderAskingAgainGetsItsFirstAnswer: an activity that
// spent a link and lost the answer (a worker killed after the commit) is
// retried under the same spender and gets what the first attempt did, once
// in history; anyone else still finds the link used.
func TestLinks_TheSpenderAskingAgainGetsItsFirstAnswer(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	by := licensing.Actor{Kind: "link"}
	audits := func(action string) int {
		var n int
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1`, action).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	confirm := postgres.TokenHash(newLink(t, db, "confirm_move", "move/x", time.Hour))
	for attempt := 1; attempt <= 2; attempt++ {
		k, err := db.SpendLink(ctx, confirm, "confirm_move", "move/x", by, "confirm_move.approve", "run-1/5")
		if err != nil || k.Email != "alice@acme.test" {
			t.Fatalf("attempt %d: %+v, %v", attempt, k, err)
		}
	}
	if n := audits("confirm_move.approve"); n != 1 {
		t.Errorf("decision recorded %d times; want once", n)
	}
	if _, err := db.SpendLink(ctx, confirm, "confirm_move", "move/x", by, "confirm_move.approve", "run-1/9"); licensing.ErrorCode(err) != licensing.Gone {
		t.Errorf("another spender: %v; want Gone", err)
	}
	if _, err := db.SpendLink(ctx, confirm, "confirm_move", "move/x", by, "confirm_move.approve", ""); licensing.ErrorCode(err) != licensing.Gone {
		t.Errorf("no spender: %v; want Gone", err)
	}

	// bob takes the technical role from alice; asked again, the same answer.
	token, _, err := db.CreateLink(ctx, postgres.NewLink{Purpose: "promote", Email: "bob@acme.test", SEN: "SEN-1000001",
		WorkflowID: "promote/SEN-1000001/bob@acme.test", TTL: time.Hour, Data: map[string]any{"roles": []string{"technical"}}})
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 2; attempt++ {
		k, roles, demoted, err := db.RedeemPromotion(ctx, postgres.TokenHash(token), "promote/SEN-1000001/bob@acme.test", "run-2/3")
		if err != nil || k.Email != "bob@acme.test" || fmt.Sprint(roles) != "[technical]" ||
			len(demoted) != 1 || demoted[0].Email != "alice@acme.test" || demoted[0].Role != licensing.Technical {
			t.Fatalf("attempt %d: %+v %v %v, %v", attempt, k, roles, demoted, err)
		}
	}
	if _, _, _, err := db.RedeemPromotion(ctx, postgres.TokenHash(token), "promote/SEN-1000001/bob@acme.test", "run-2/4"); licensing.ErrorCode(err) != licensing.Gone {
		t.Errorf("another spender: %v; want Gone", err)
	}
}

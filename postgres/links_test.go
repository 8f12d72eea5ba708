package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"licensedesk/licensing"
	"licensedesk/postgres"
)

func newLink(t *testing.T, db *postgres.DB, purpose, workflowID string, ttl time.Duration) string {
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
	by := postgres.Actor{Kind: "link"}
	expired := newLink(t, db, "confirm_move", "move/x", time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	used := newLink(t, db, "confirm_move", "move/x", time.Hour)
	if _, err := db.SpendLink(ctx, postgres.TokenHash(used), "confirm_move", "move/x", by, "test"); err != nil {
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
		if _, err := db.SpendLink(ctx, postgres.TokenHash(tc.token), "confirm_move", "move/x", by, "test"); licensing.ErrorCode(err) != tc.want && !(name == "revoked" && licensing.ErrorCode(err) == licensing.NotFound) {
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
	by := postgres.Actor{Kind: "link"}
	token := newLink(t, db, "promote", "promote/SEN-1000001/alice@acme.test", time.Hour)
	if _, err := db.SpendLink(ctx, postgres.TokenHash(token), "promote", "move/SEN-1000001/other@acme.test", by, "test"); licensing.ErrorCode(err) != licensing.NotFound {
		t.Errorf("other workflow: %v; want NotFound", err)
	}
	if _, err := db.SpendLink(ctx, postgres.TokenHash(token), "confirm_move", "promote/SEN-1000001/alice@acme.test", by, "test"); licensing.ErrorCode(err) != licensing.NotFound {
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
			if _, err := db.SpendLink(ctx, postgres.TokenHash(token), "confirm_move", "move/x", postgres.Actor{Kind: "link"}, "test"); err == nil {
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

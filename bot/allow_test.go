package bot

import (
	"context"
	"errors"
	"testing"
	"time"
)

type fakeGroups struct {
	members map[string][]string
	calls   int
	err     error
}

func (f *fakeGroups) Members(_ context.Context, id string) ([]string, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return f.members[id], nil
}

func TestAllow_Permits(t *testing.T) {
	groups := &fakeGroups{members: map[string][]string{"S0SALES": {"U_SALES"}, "S0ADMINS": {"U_ADMIN"}}}
	tests := []struct {
		name       string
		read, act  string
		user       string
		class      Class
		wantResult bool
	}{
		{"empty lists allow nobody", "", "", "U1", Read, false},
		{"star allows everyone to read", "*", "", "U1", Read, true},
		{"read does not imply act", "*", "", "U1", Act, false},
		{"act implies read", "", "U1", "U1", Read, true},
		{"listed user may act", "", " u1 , U2", "U2", Act, true},
		{"unlisted user may not act", "*", "U2", "U1", Act, false},
		{"group member may read", "S0SALES", "", "U_SALES", Read, true},
		{"act group member may read", "", "S0ADMINS", "U_ADMIN", Read, true},
		{"read group member may not act", "S0SALES", "S0ADMINS", "U_SALES", Act, false},
		{"star for act", "", "*", "U9", Act, true},
		{"invalid class is refused", "*", "*", "U1", Class(0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAllow(tt.read, tt.act).permits(context.Background(), groups, tt.user, tt.class)
			if err != nil || got != tt.wantResult {
				t.Fatalf("permits = %v, %v; want %v", got, err, tt.wantResult)
			}
		})
	}
}

func TestAllow_GroupLookupFailureFailsClosed(t *testing.T) {
	groups := &fakeGroups{err: errors.New("slack down")}
	a := ParseAllow("S0SALES", "U_ADMIN")
	if ok, err := a.permits(context.Background(), groups, "U_SALES", Read); ok || err == nil {
		t.Fatalf("permits = %v, %v; want false and the error", ok, err)
	}
	// A user listed by ID needs no lookup.
	if ok, err := a.permits(context.Background(), groups, "U_ADMIN", Read); !ok || err != nil {
		t.Fatalf("permits = %v, %v; want true", ok, err)
	}
}

func TestGroupCache_KeepsMembersForItsTTL(t *testing.T) {
	inner := &fakeGroups{members: map[string][]string{"S1": {"U1"}}}
	now := time.Unix(0, 0)
	c := NewGroupCache(inner, 5*time.Minute)
	c.now = func() time.Time { return now }
	ctx := context.Background()

	c.Members(ctx, "S1")
	now = now.Add(4 * time.Minute)
	c.Members(ctx, "S1")
	if inner.calls != 1 {
		t.Fatalf("within the TTL: %d lookups, want 1", inner.calls)
	}
	now = now.Add(2 * time.Minute)
	got, _ := c.Members(ctx, "S1")
	if inner.calls != 2 || len(got) != 1 || got[0] != "U1" {
		t.Fatalf("after the TTL: %d lookups, members %v", inner.calls, got)
	}
}

func TestGroupCache_DoesNotCacheFailures(t *testing.T) {
	inner := &fakeGroups{err: errors.New("rate limited")}
	c := NewGroupCache(inner, 5*time.Minute)
	ctx := context.Background()
	if _, err := c.Members(ctx, "S1"); err == nil {
		t.Fatal("want the lookup error")
	}
	inner.err = nil
	inner.members = map[string][]string{"S1": {"U1"}}
	if got, err := c.Members(ctx, "S1"); err != nil || len(got) != 1 {
		t.Fatalf("after recovery: %v, %v", got, err)
	}
}

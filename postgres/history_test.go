package postgres_test

import (
	"context"
	"testing"

	"licensedesk/licensing"
)

// A licence with 1,200 events, among others', pages newest first, 50 at a
// time, every event once; a bad cursor and an unknown licence get their
// errors. (That the index serves it at scale is shown by the scale
// benchmark's EXPLAIN.)
func TestHistory_PagesNewestFirst(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	pool := db.Pool()
	if _, err := pool.Exec(ctx, `
		INSERT INTO audit_log (actor_kind, actor, action, license_id, detail)
		SELECT 'api', 'api', 'test.event', (SELECT id FROM licenses WHERE sen = 'SEN-1000001'), jsonb_build_object('n', g)
		FROM generate_series(1, 1200) g`); err != nil {
		t.Fatal(err)
	}
	// Other licences' events around it, as in a real log.
	if _, err := pool.Exec(ctx, `
		INSERT INTO audit_log (actor_kind, actor, action, license_id, detail)
		SELECT 'api', 'api', 'test.event', (SELECT id FROM licenses WHERE sen = 'SEN-1000002'), '{}'
		FROM generate_series(1, 40000) g`); err != nil {
		t.Fatal(err)
	}
	seen, last, cursor := 0, int64(1<<62), ""
	for {
		page, err := db.History(ctx, "SEN-1000001", cursor, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			if e.ID >= last {
				t.Fatalf("event %d after %d: not newest first", e.ID, last)
			}
			last = e.ID
			seen++
		}
		if page.NextCursor == "" {
			break
		}
		if len(page.Events) != 50 {
			t.Fatalf("a full page of %d", len(page.Events))
		}
		cursor = page.NextCursor
	}
	if seen < 1200 {
		t.Errorf("paged %d events; want at least 1200", seen)
	}
	if _, err := db.History(ctx, "SEN-1000001", "x1", 50); licensing.ErrorCode(err) != licensing.Invalid {
		t.Errorf("bad cursor: %v", err)
	}
	if _, err := db.History(ctx, "SEN-9999999", "", 50); licensing.ErrorCode(err) != licensing.NotFound {
		t.Errorf("unknown licence: %v", err)
	}
}

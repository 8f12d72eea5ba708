package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/pacing"
)

var _ pacing.Store = (*DB)(nil)

// Reserve implements pacing.Store on the pace_slots table, by the
// database's clock, so that every process shares one schedule per key:
// one statement takes the next slot (the generic cell rate algorithm's
// theoretical arrival time moves one interval on) unless it is more than
// maxWait away.
func (db *DB) Reserve(ctx context.Context, s pacing.Slot, maxWait time.Duration) (time.Duration, bool, error) {
	var waitUS int64
	err := db.pool.QueryRow(ctx, `
		WITH c AS (SELECT clock_timestamp() AS now)
		INSERT INTO pace_slots AS p (key, tat)
		SELECT $1, c.now + $2 * interval '1 microsecond' FROM c
		ON CONFLICT (key) DO UPDATE
			SET tat = greatest(p.tat, (SELECT now FROM c)) + $2 * interval '1 microsecond'
			WHERE greatest(p.tat, (SELECT now FROM c)) - $3 * interval '1 microsecond'
			      <= (SELECT now FROM c) + $4 * interval '1 microsecond'
		RETURNING greatest(0, extract(epoch FROM p.tat - ($2::bigint + $3::bigint) * interval '1 microsecond' - (SELECT now FROM c)) * 1e6)::bigint`,
		s.Key, s.Every.Microseconds(), s.Tolerance.Microseconds(), maxWait.Microseconds()).Scan(&waitUS)
	if err == nil {
		return time.Duration(waitUS) * time.Microsecond, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, err
	}
	err = db.pool.QueryRow(ctx, `
		SELECT greatest(0, extract(epoch FROM tat - $2 * interval '1 microsecond' - clock_timestamp()) * 1e6)::bigint
		FROM pace_slots WHERE key = $1`, s.Key, s.Tolerance.Microseconds()).Scan(&waitUS)
	return time.Duration(waitUS) * time.Microsecond, false, err
}

// Hold implements pacing.Store: the key's next slot is at least d away.
func (db *DB) Hold(ctx context.Context, s pacing.Slot, d time.Duration) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO pace_slots AS p (key, tat) VALUES ($1, clock_timestamp() + ($2::bigint + $3::bigint) * interval '1 microsecond')
		ON CONFLICT (key) DO UPDATE SET tat = greatest(p.tat, excluded.tat)`,
		s.Key, d.Microseconds(), s.Tolerance.Microseconds())
	return err
}

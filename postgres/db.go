// Package postgres stores licensedesk's data in PostgreSQL through pgx. SQL
// is parameterised everywhere; domain invariants are also database
// constraints (see migrations/001_schema.sql).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"

	"licensedesk/internal/clock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is the application's handle on PostgreSQL.
type DB struct {
	pool  *pgxpool.Pool
	clock clock.Clock // what "now" is for link expiry, sessions and throttles; nil: the wall clock
}

// Open connects a pool to url and checks the connection.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return &DB{pool: pool}, nil
}

// SetClock makes the store decide by c (link expiry, sessions, throttles,
// the times it records for them) instead of the wall clock. Call it before
// the DB is shared.
func (db *DB) SetClock(c clock.Clock) { db.clock = c }

// Now is the store's clock: every decision by the time passes it to SQL
// as a parameter rather than asking PostgreSQL's now(), so one clock rules
// the process and tests can pin it.
func (db *DB) Now() time.Time { return db.clock.Now() }

func (db *DB) now() time.Time { return db.Now() }

// Close releases every connection.
func (db *DB) Close() { db.pool.Close() }

// Ping checks the database answers; used by /readyz.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// Pool exposes the pool to tests and benchmarks in other packages.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Migrate brings the schema at url up to date. It is safe to run from several
// processes at once: tern serialises them with an advisory lock.
func Migrate(ctx context.Context, url string) (from, to int32, err error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, 0, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	m, err := migrate.NewMigrator(ctx, conn, "schema_version")
	if err != nil {
		return 0, 0, err
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return 0, 0, err
	}
	if err := m.LoadMigrations(sub); err != nil {
		return 0, 0, err
	}
	if from, err = m.GetCurrentVersion(ctx); err != nil {
		return 0, 0, err
	}
	if err := m.Migrate(ctx); err != nil {
		return from, 0, fmt.Errorf("migrate: %w", err)
	}
	to, err = m.GetCurrentVersion(ctx)
	return from, to, err
}

// MigrateBefore migrates the database at url up to the migration just
// before the one whose file name contains name, so a test can put data in
// the old shape and check the migration keeps it (Migrate then does the
// rest). Migrations are found by name, not number: numbers move when
// branches merge.
func MigrateBefore(ctx context.Context, url, name string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	m, err := migrate.NewMigrator(ctx, conn, "schema_version")
	if err != nil {
		return err
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	if err := m.LoadMigrations(sub); err != nil {
		return err
	}
	for i, mig := range m.Migrations {
		if strings.Contains(mig.Name, name) {
			return m.MigrateTo(ctx, int32(i))
		}
	}
	return fmt.Errorf("no migration named like %q", name)
}

// inTx runs fn in a transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if !clock.IsWall(db.clock) {
			// The history's times follow the store's clock (migration 018).
			if _, err := tx.Exec(ctx, `SELECT set_config('licensedesk.now', $1, true)`, db.clock().UTC().Format(time.RFC3339Nano)); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// constraintName returns the name of the constraint err violated, if any.
func constraintName(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	return ""
}

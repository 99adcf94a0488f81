package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// writeLock is the key of the advisory lock every write transaction on
// PostgreSQL (inTx, and exec, which writes in one) takes first, held until
// it commits. Those writers are serialised as SQLite serialises them,
// across every replica on the database: each guarantee the store keeps by
// reading and then writing in one transaction (a quota check and the
// reservation it allows, one operation per instance, the last Owner,
// sign-in limits, a schedule's firing) holds as it does on SQLite. Reads
// take no lock and run in parallel, nor do the few single INSERTs that
// read nothing first (a user, a role assignment, an audit event), which
// their unique indexes guard alone.
const writeLock int64 = 0x696e7374 // "inst"

// migrationLock is the key of the session advisory lock a replica holds
// while it applies migrations.
const migrationLock int64 = 0x696e6d67 // "inmg"

// migrationLocker is goose's session lock on PostgreSQL: it waits for the
// lock, rather than polling for it every second as goose's own does, so
// that replicas started together each start the moment the one before
// has migrated. A replica that dies migrating ends its session, and so
// lets go of the lock.
type migrationLocker struct{}

func (migrationLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock)
	return err
}

func (migrationLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, migrationLock)
	return err
}

// OpenPostgres opens the PostgreSQL database at url (postgres://…) and
// applies the migrations it has not had yet; several portals may share it.
func OpenPostgres(ctx context.Context, url string) (*DB, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// As many kept as may be open: each connection is a server process,
	// and opening one under load (a few milliseconds) was what a page's
	// p99 waited for when only four were kept.
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := migrateDialect(ctx, db, postgresDialect); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	return newDB(db, postgresDialect, pgChanges{db: db, url: url}), nil
}

// pgChanges reads the data version that triggers move on with every write
// (migration 00016 of migrations_postgres).
type pgChanges struct {
	db  *sql.DB
	url string // for the connection that listens (ListenInstanceChanges)
}

func (c pgChanges) version(ctx context.Context) (int64, error) {
	var v int64
	err := c.db.QueryRowContext(ctx, `SELECT version FROM data_version WHERE id = 1`).Scan(&v)
	return v, err
}

func (pgChanges) close() error { return nil }

func (d *dialect) migrations() string {
	if d.postgres() {
		return "migrations_postgres"
	}
	return "migrations"
}

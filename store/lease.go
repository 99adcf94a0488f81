package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/instancehub/instancehub"
)

// Leases: each operation in progress is driven by the portal that holds its
// lease (operations.lease_owner until lease_until), which renews it while
// it runs; a portal that dies leaves it to lapse, and another claims it.
// Lease times are the database's clock (leaseClock): every replica reads
// the same one, and none can move it, so a replica whose clock jumps (an
// NTP step, an operator) neither takes over what another still holds nor
// leaves its own leases lapsed or stretched. Whatever a late portal still
// tries is refused by the fencing of SaveOperationProgress and
// FinishOperation, which check the owner.

// leaseClock is a common table expression, clock(now), of the current time
// in milliseconds that leases are kept by, and its arguments: PostgreSQL's
// own clock, which its replicas share; on SQLite, whose one portal is its
// only user, the store's clock.
func (db *DB) leaseClock() (string, []any) {
	if db.d.postgres() {
		return `WITH clock(now) AS (SELECT CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)) `, nil
	}
	return `WITH clock(now) AS (SELECT ?) `, []any{millis(db.now())}
}

// ClaimLapsedOperations gives owner, for lease, every operation in
// progress whose lease has lapsed (or, with all, every one: a portal that
// knows it is the only one, at start), and returns their IDs. Claims are
// one statement: of two portals claiming at once, each operation goes to
// one.
func (db *DB) ClaimLapsedOperations(ctx context.Context, owner string, lease time.Duration, all bool) ([]int64, error) {
	clock, args := db.leaseClock()
	rows, err := db.queryWrite(ctx, clock+`
		UPDATE operations SET lease_owner = ?, lease_until = (SELECT now FROM clock) + ?
		WHERE status = 'InProgress' AND (? OR lease_until < (SELECT now FROM clock))
		RETURNING id`, append(args, owner, lease.Milliseconds(), all)...)
	if err != nil {
		return nil, fmt.Errorf("claim operations: %w", err)
	}
	return rows, nil
}

// RenewOperations extends owner's leases of ids by lease from now and
// returns the IDs it still held: an operation missing was taken over, or
// has ended.
func (db *DB) RenewOperations(ctx context.Context, owner string, ids []int64, lease time.Duration) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	clock, args := db.leaseClock()
	args = append(args, lease.Milliseconds(), owner)
	for _, id := range ids {
		args = append(args, id)
	}
	held, err := db.queryWrite(ctx, clock+`
		UPDATE operations SET lease_until = (SELECT now FROM clock) + ?
		WHERE lease_owner = ? AND status = 'InProgress' AND id IN (`+placeholders(len(ids))+`)
		RETURNING id`, args...)
	if err != nil {
		return nil, fmt.Errorf("renew operations: %w", err)
	}
	return held, nil
}

// ReleaseOperations lets go of owner's leases, so that another portal
// takes the operations over at once: a portal that stops cleanly.
func (db *DB) ReleaseOperations(ctx context.Context, owner string) error {
	_, err := db.exec(ctx, `UPDATE operations SET lease_until = 0
		WHERE lease_owner = ? AND status = 'InProgress'`, owner)
	return wrap(err, "release operations")
}

// AcquireLease takes the lease name for owner, for lease from now, or
// renews it, and reports whether owner holds it: it was free, lapsed, or
// owner's.
func (db *DB) AcquireLease(ctx context.Context, name, owner string, lease time.Duration) (bool, error) {
	clock, args := db.leaseClock()
	held, err := db.queryWrite(ctx, clock+`
		INSERT INTO leases (name, owner, until) VALUES (?, ?, (SELECT now FROM clock) + ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
		WHERE leases.owner = excluded.owner OR leases.until < (SELECT now FROM clock)
		RETURNING 1`, append(args, name, owner, lease.Milliseconds())...)
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	return len(held) == 1, nil
}

// PortalKey returns the 32-byte key named name that every portal on the
// database shares, made at random by the first to ask.
func (db *DB) PortalKey(ctx context.Context, name string) ([]byte, error) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if _, err := db.exec(ctx, `INSERT INTO portal_keys (name, key, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, name, key, millis(db.now())); err != nil {
		return nil, fmt.Errorf("make key %s: %w", name, err)
	}
	if err := db.queryRow(ctx, `SELECT key FROM portal_keys WHERE name = ?`, name).Scan(&key); err != nil {
		return nil, fmt.Errorf("read key %s: %w", name, err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("key %s: %d bytes, want 32", name, len(key))
	}
	return key, nil
}

// queryWrite runs a write that returns IDs (RETURNING), under the write
// lock on PostgreSQL as exec does, and returns them.
func (db *DB) queryWrite(ctx context.Context, query string, args ...any) ([]int64, error) {
	var ids []int64
	err := db.inTx(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	return ids, err
}

var errLeaseLost = instancehub.ErrLeaseLost

// leaseCondition fences a write to an operation: it passes for the lease's
// owner, or for a caller that names none (the single portal of old tests).
const leaseCondition = `(lease_owner = ? OR ? = '')`

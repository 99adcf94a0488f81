package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/instancehub/instancehub"
)

// ReserveLoginAttempt counts the recent failures and, under both limits,
// records this attempt as a failure, in one transaction: it holds the
// write lock from its start, so parallel attempts are counted one by one.
func (db *DB) ReserveLoginAttempt(ctx context.Context, email, addr string, t, since time.Time, perEmail, perAddr int) (int64, error) {
	var id int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// Old failures count no more; dropping them keeps the table small
		// whoever floods it.
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE at < ?`, millis(since)); err != nil {
			return err
		}
		var byEmail, byAddr int
		err := tx.QueryRowContext(ctx, `
			SELECT (SELECT count(*) FROM login_failures WHERE email = ? AND at >= ?),
			       (SELECT count(*) FROM login_failures WHERE source_ip = ? AND at >= ?)`,
			email, millis(since), addr, millis(since)).Scan(&byEmail, &byAddr)
		if err != nil {
			return err
		}
		if byEmail >= perEmail || byAddr >= perAddr {
			return instancehub.Errorf(instancehub.ETHROTTLED, "Too many failed sign-ins.")
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO login_failures (email, source_ip, at) VALUES (?, ?, ?)`, email, addr, millis(t))
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, wrap(err, "reserve login attempt")
}

// ForgetLoginAttempt deletes a reserved attempt.
func (db *DB) ForgetLoginAttempt(ctx context.Context, id int64) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM login_failures WHERE id = ?`, id); err != nil {
		return fmt.Errorf("forget login attempt %d: %w", id, err)
	}
	return nil
}

// CountLoginFailures counts the failed sign-ins since a time, for the email
// and for the address.
func (db *DB) CountLoginFailures(ctx context.Context, email, addr string, since time.Time) (byEmail, byAddr int, err error) {
	err = db.db.QueryRowContext(ctx, `
		SELECT (SELECT count(*) FROM login_failures WHERE email = ? AND at >= ?),
		       (SELECT count(*) FROM login_failures WHERE source_ip = ? AND at >= ?)`,
		email, millis(since), addr, millis(since)).Scan(&byEmail, &byAddr)
	if err != nil {
		return 0, 0, fmt.Errorf("count login failures: %w", err)
	}
	return byEmail, byAddr, nil
}

// ClearLoginFailures forgets an account's failures after it signs in, and
// every failure older than before.
func (db *DB) ClearLoginFailures(ctx context.Context, email string, before time.Time) error {
	_, err := db.db.ExecContext(ctx, `DELETE FROM login_failures WHERE email = ? OR at < ?`, email, millis(before))
	if err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}

package store

import (
	"context"
	"fmt"
	"time"

	"github.com/instancehub/instancehub"
)

// ReserveLoginAttempt counts the failures and attempts under way of the
// account and address, apart and together, and records this attempt as
// under way when admit lets it, in one transaction: it holds the write
// lock from its start, so parallel attempts are counted one by one.
func (db *DB) ReserveLoginAttempt(ctx context.Context, email, addr string, t, since time.Time,
	admit func(instancehub.LoginCounts) error) (id int64, counts instancehub.LoginCounts, err error) {
	err = db.inTx(ctx, func(tx *Tx) error {
		// Old failures count no more; dropping them keeps the table small
		// whoever floods it.
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE at < ?`, millis(since)); err != nil {
			return err
		}
		// Each count stops at MaxLoginCount: a flood's rows are not read.
		err := tx.QueryRowContext(ctx, `
			SELECT (SELECT count(*) FROM (SELECT 1 FROM login_failures WHERE email = ? AND source_ip = ? LIMIT ?) p),
			       (SELECT count(*) FROM (SELECT 1 FROM login_failures WHERE email = ? LIMIT ?) a),
			       (SELECT count(*) FROM (SELECT 1 FROM login_failures WHERE source_ip = ? LIMIT ?) s)`,
			email, addr, instancehub.MaxLoginCount, email, instancehub.MaxLoginCount, addr, instancehub.MaxLoginCount,
		).Scan(&counts.Pair, &counts.Account, &counts.Address)
		if err != nil {
			return err
		}
		if admit != nil {
			if err := admit(counts); err != nil {
				return err
			}
		}
		return tx.QueryRowContext(ctx, `INSERT INTO login_failures (email, source_ip, at, pending) VALUES (?, ?, ?, 1) RETURNING id`,
			email, addr, millis(t)).Scan(&id)
	})
	return id, counts, wrap(err, "reserve login attempt")
}

// FailLoginAttempt records an attempt under way as a failure.
func (db *DB) FailLoginAttempt(ctx context.Context, id int64) error {
	if _, err := db.exec(ctx, `UPDATE login_failures SET pending = 0 WHERE id = ?`, id); err != nil {
		return fmt.Errorf("fail login attempt %d: %w", id, err)
	}
	return nil
}

// ForgetLoginAttempt deletes an attempt.
func (db *DB) ForgetLoginAttempt(ctx context.Context, id int64) error {
	if _, err := db.exec(ctx, `DELETE FROM login_failures WHERE id = ?`, id); err != nil {
		return fmt.Errorf("forget login attempt %d: %w", id, err)
	}
	return nil
}

// ClearLoginFailures forgets an account's failures from addr, or from every
// address when addr is "". Attempts under way are left to finish.
func (db *DB) ClearLoginFailures(ctx context.Context, email, addr string) (int, error) {
	res, err := db.exec(ctx, `
		DELETE FROM login_failures WHERE email = ? AND (? = '' OR source_ip = ?) AND pending = 0`, email, addr, addr)
	if err != nil {
		return 0, fmt.Errorf("clear login failures of %s: %w", email, err)
	}
	n, err := rowsAffected(res)
	return int(n), err
}

// CountLoginFailures counts each account's failures (see the interface).
func (db *DB) CountLoginFailures(ctx context.Context) (map[string]int, error) {
	rows, err := db.query(ctx, `SELECT email, COUNT(*) FROM login_failures WHERE pending = 0 GROUP BY email`)
	if err != nil {
		return nil, fmt.Errorf("count login failures: %w", err)
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var email string
		var n int
		if err := rows.Scan(&email, &n); err != nil {
			return nil, fmt.Errorf("count login failures: %w", err)
		}
		counts[email] = n
	}
	return counts, wrap(rows.Err(), "count login failures")
}

package store

import (
	"context"
	"fmt"
	"time"
)

// RecordLoginFailure notes a failed sign-in for email from addr at t.
func (db *DB) RecordLoginFailure(ctx context.Context, email, addr string, t time.Time) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO login_failures (email, source_ip, at) VALUES (?, ?, ?)`, email, addr, millis(t))
	if err != nil {
		return fmt.Errorf("record login failure: %w", err)
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

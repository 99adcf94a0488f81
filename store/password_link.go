package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/instancehub/instancehub"
)

// CreatePasswordLink keeps a link to set a password.
func (db *DB) CreatePasswordLink(ctx context.Context, l *instancehub.PasswordLink) error {
	_, err := db.exec(ctx, `INSERT INTO password_links (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		l.TokenHash, l.UserID, millis(db.orNow(l.CreatedAt)), millis(l.ExpiresAt))
	return wrap(err, "create password link")
}

// UsePasswordLink sets the password hash of the link's user and uses the
// link up, in one transaction: of two requests with the same link, one
// sets the password. ENOTFOUND for a link unknown, used or expired.
func (db *DB) UsePasswordLink(ctx context.Context, tokenHash string, now time.Time, passwordHash string) (*instancehub.User, error) {
	var userID int64
	err := db.inTx(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `
			UPDATE password_links SET used_at = ?
			WHERE token_hash = ? AND used_at = 0 AND expires_at > ?
			RETURNING user_id`, millis(now), tokenHash, millis(now)).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return instancehub.Errorf(instancehub.ENOTFOUND, "Password link not found.")
		} else if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, userID)
		return err
	})
	if err != nil {
		return nil, wrap(err, "use password link")
	}
	return db.FindUserByID(ctx, userID)
}

// PasswordLinkWorks tells whether a link is unused and expires after now.
func (db *DB) PasswordLinkWorks(ctx context.Context, tokenHash string, now time.Time) (bool, error) {
	var n int
	err := db.queryRow(ctx, `SELECT count(*) FROM password_links WHERE token_hash = ? AND used_at = 0 AND expires_at > ?`,
		tokenHash, millis(now)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("password link: %w", err)
	}
	return n > 0, nil
}

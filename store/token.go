package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// tokenSelect reads tokens with their user's name and email.
const tokenSelect = `
SELECT t.id, t.user_id, u.name, u.email, t.name, t.token_hash, t.prefix, t.read_only,
       t.created_at, t.expires_at, t.last_used_at, t.revoked_at
FROM api_tokens t JOIN users u ON u.id = t.user_id`

// CreateToken inserts t and sets its ID. ECONFLICT when the user has a live
// token of that name, or MaxTokensPerUser working ones at now, checked in
// the transaction.
func (db *DB) CreateToken(ctx context.Context, t *instancehub.APIToken, now time.Time) error {
	err := db.inTx(ctx, func(tx *Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE user_id = ? AND revoked_at = 0 AND expires_at > ?`,
			t.UserID, millis(now)).Scan(&n)
		if err != nil {
			return err
		}
		if n >= instancehub.MaxTokensPerUser {
			return instancehub.Errorf(instancehub.ECONFLICT, "You have %d tokens that work already, the most one may have. Revoke one you no longer use.", n)
		}
		err = tx.QueryRowContext(ctx, `
			INSERT INTO api_tokens (user_id, name, token_hash, prefix, read_only, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			t.UserID, t.Name, t.Hash, t.Prefix, t.ReadOnly, millis(t.CreatedAt), millis(t.ExpiresAt)).Scan(&t.ID)
		if isUnique(err) {
			return instancehub.Errorf(instancehub.ECONFLICT, "You have a token named %s already. Choose another name, or revoke that one first.", t.Name)
		}
		return err
	})
	return wrap(err, "create token")
}

// FindToken returns the live token with that hash, with its user and the
// user's roles as they are now. ENOTFOUND otherwise. A token read is kept
// while nothing is committed: a revocation, a change of roles or of the
// user are commits, and the quiet minutely record of its use (TouchToken)
// forgets it.
func (db *DB) FindToken(ctx context.Context, hash string, now time.Time) (*instancehub.APIToken, error) {
	version, err := db.version(ctx)
	if err != nil {
		return db.findToken(ctx, hash, now)
	}
	if kept, ok := db.tokens.get(version, hash); ok {
		if !kept.ExpiresAt.After(now) {
			return nil, instancehub.Errorf(instancehub.ENOTFOUND, "Token not found.")
		}
		return copyToken(kept), nil
	}
	t, err := db.findToken(ctx, hash, now)
	if err == nil {
		db.tokens.put(version, hash, copyToken(t))
	}
	return t, err
}

// copyToken returns a copy a caller may change.
func copyToken(t *instancehub.APIToken) *instancehub.APIToken {
	c := *t
	u := *t.User
	u.Roles = slices.Clone(t.User.Roles)
	c.User = &u
	return &c
}

func (db *DB) findToken(ctx context.Context, hash string, now time.Time) (*instancehub.APIToken, error) {
	t, err := scanToken(db.queryRow(ctx, tokenSelect+`
		WHERE t.token_hash = ? AND t.revoked_at = 0 AND t.expires_at > ? AND u.disabled_at = 0`, hash, millis(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "Token not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	t.User, err = db.FindUserByID(ctx, t.UserID)
	if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	if t.User.Roles, err = db.UserRoles(ctx, t.UserID); err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	return t, nil
}

// FindTokenByID returns a token. ENOTFOUND when there is none.
func (db *DB) FindTokenByID(ctx context.Context, id int64) (*instancehub.APIToken, error) {
	t, err := scanToken(db.queryRow(ctx, tokenSelect+` WHERE t.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "There is no token %d.", id)
	}
	return t, wrap(err, "find token %d", id)
}

// FindTokens lists a user's tokens, or everyone's for userID 0, newest
// first; those revoked or expired more than a year ago are left out.
func (db *DB) FindTokens(ctx context.Context, userID int64, now time.Time) ([]*instancehub.APIToken, error) {
	conds, args := []string{`t.expires_at > ?`}, []any{millis(now.AddDate(-1, 0, 0))}
	if userID != 0 {
		conds, args = append(conds, `t.user_id = ?`), append(args, userID)
	}
	rows, err := db.query(ctx, tokenSelect+` WHERE `+strings.Join(conds, " AND ")+` ORDER BY t.id DESC LIMIT 1000`, args...)
	if err != nil {
		return nil, fmt.Errorf("find tokens: %w", err)
	}
	defer rows.Close()
	var tokens []*instancehub.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("find tokens: %w", err)
		}
		tokens = append(tokens, t)
	}
	return tokens, wrap(rows.Err(), "find tokens")
}

// TouchToken records a use at t and reports whether it was the first: of
// two first calls at once, one statement finds last_used_at still 0. No
// kept page or answer shows a token's last use, so the write leaves the
// data version (execQuiet); the token's own kept read is forgotten.
func (db *DB) TouchToken(ctx context.Context, id int64, t time.Time) (bool, error) {
	defer db.tokens.forget(func(_ string, kept *instancehub.APIToken) bool { return kept.ID == id })
	res, err := db.execQuiet(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND last_used_at = 0`, millis(t), id)
	if err != nil {
		return false, fmt.Errorf("touch token %d: %w", id, err)
	}
	if n, err := rowsAffected(res); err != nil || n > 0 {
		return n > 0, err
	}
	_, err = db.execQuiet(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, millis(t), id)
	return false, wrap(err, "touch token %d", id)
}

// RevokeToken revokes a token at t. ENOTFOUND when there is no such
// unrevoked token.
func (db *DB) RevokeToken(ctx context.Context, id int64, t time.Time) error {
	res, err := db.exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, millis(t), id)
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return instancehub.Errorf(instancehub.ENOTFOUND, "There is no token %d that works.", id)
	}
	return nil
}

func scanToken(row scanner) (*instancehub.APIToken, error) {
	var t instancehub.APIToken
	var created, expires, used, revoked int64
	err := row.Scan(&t.ID, &t.UserID, &t.UserName, &t.UserEmail, &t.Name, &t.Hash, &t.Prefix, &t.ReadOnly,
		&created, &expires, &used, &revoked)
	if err != nil {
		return nil, err
	}
	t.CreatedAt, t.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	t.LastUsedAt, t.RevokedAt = zeroMillis(used), zeroMillis(revoked)
	return &t, nil
}

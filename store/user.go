package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/instancehub/instancehub"
)

// CreateUser inserts u and sets its ID, and its CreatedAt when zero.
// ECONFLICT when the email is taken, compared case-insensitively.
func (db *DB) CreateUser(ctx context.Context, u *instancehub.User) error {
	u.CreatedAt = db.orNow(u.CreatedAt)
	err := db.queryRow(ctx,
		`INSERT INTO users (email, name, password_hash, subject, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		u.Email, u.Name, u.PasswordHash, u.Subject, millis(u.CreatedAt)).Scan(&u.ID)
	if isUnique(err) {
		return instancehub.Errorf(instancehub.ECONFLICT, "A user with the email %s already exists.", u.Email)
	} else if err != nil {
		return fmt.Errorf("create user %s: %w", u.Email, err)
	}
	return nil
}

// FindUserByID returns a user. ENOTFOUND if there is none.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*instancehub.User, error) {
	u, err := db.findUser(ctx, `id = ?`, id)
	return u, wrap(err, "find user %d", id)
}

// FindUserByEmail returns a user, comparing emails case-insensitively (the
// column's NOCASE collation does it). ENOTFOUND if there is none.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*instancehub.User, error) {
	u, err := db.findUser(ctx, `email = ?`, email)
	return u, wrap(err, "find user %s", email)
}

// FindUserBySubject returns the user an identity provider knows by subject.
// ENOTFOUND if there is none.
func (db *DB) FindUserBySubject(ctx context.Context, subject string) (*instancehub.User, error) {
	if subject == "" {
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "User not found.")
	}
	u, err := db.findUser(ctx, `subject = ?`, subject)
	return u, wrap(err, "find user by subject")
}

// FindUserByObjectID returns the user whose single sign-on subject is id,
// or ends in it after the provider's part ("entra:<tenant>:<id>",
// "<issuer>#<id>"). ENOTFOUND if there is none; ECONFLICT if several match.
func (db *DB) FindUserByObjectID(ctx context.Context, id string) (*instancehub.User, error) {
	if id == "" {
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "User not found.")
	}
	rows, err := db.query(ctx, `SELECT id FROM users WHERE subject = ?1
		OR (length(subject) > length(?1) AND `+db.d.lastChars("subject", "length(?1) + 1")+` IN (':' || ?1, '#' || ?1)) LIMIT 2`, id)
	if err != nil {
		return nil, fmt.Errorf("find user by object ID: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var uid int64
		if err := rows.Scan(&uid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find user by object ID: %w", err)
		}
		ids = append(ids, uid)
	}
	rows.Close()
	switch {
	case rows.Err() != nil:
		return nil, fmt.Errorf("find user by object ID: %w", rows.Err())
	case len(ids) == 0:
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "User not found.")
	case len(ids) > 1:
		return nil, instancehub.Errorf(instancehub.ECONFLICT, "Several users have the object ID %s.", id)
	}
	return db.FindUserByID(ctx, ids[0])
}

// UpdateUser saves u's email, name and subject. ECONFLICT when the email or
// subject belongs to another user.
func (db *DB) UpdateUser(ctx context.Context, u *instancehub.User) error {
	_, err := db.exec(ctx, `UPDATE users SET email = ?, name = ?, subject = ? WHERE id = ?`,
		u.Email, u.Name, u.Subject, u.ID)
	if isUnique(err) {
		return instancehub.Errorf(instancehub.ECONFLICT, "Another user already has the email %s.", u.Email)
	} else if err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	return nil
}

// FindUsers lists users by name: all of them when query is empty, else those
// whose name or email contains it, case-insensitively; each with the number
// of live instances they own.
func (db *DB) FindUsers(ctx context.Context, query string, limit int) ([]*instancehub.User, error) {
	if limit <= 0 {
		limit = noLimit
	}
	return db.users.read(ctx, db, usersKey{query: query, limit: limit}, copyUsers, func() ([]*instancehub.User, error) {
		return db.findUsers(ctx, query, limit)
	})
}

// usersKey is what FindUsers was asked.
type usersKey struct {
	query string
	limit int
}

// copyUsers returns copies of users (as FindUsers reads them: no roles) a
// caller may change.
func copyUsers(users []*instancehub.User) []*instancehub.User {
	out := make([]*instancehub.User, len(users))
	for i, u := range users {
		c := *u
		out[i] = &c
	}
	return out
}

func (db *DB) findUsers(ctx context.Context, query string, limit int) ([]*instancehub.User, error) {
	rows, err := db.query(ctx, `
		SELECT id, email, name, subject, created_at, disabled_at, last_sign_in_at,
		       (SELECT count(*) FROM instances i WHERE i.owner_id = users.id AND `+live+`)
		FROM users
		WHERE ? = '' OR name `+db.d.like+` ? ESCAPE '\' OR email `+db.d.like+` ? ESCAPE '\'
		ORDER BY lower(name), id LIMIT ?`,
		query, contains(query), contains(query), limit)
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	defer rows.Close()
	var users []*instancehub.User
	for rows.Next() {
		var u instancehub.User
		var created, signedIn sql.NullInt64
		var disabled int64
		if err := rows.Scan(&u.ID, &u.Email, &u.Name, &u.Subject, &created, &disabled, &signedIn, &u.Instances); err != nil {
			return nil, fmt.Errorf("find users: %w", err)
		}
		u.CreatedAt, u.DisabledAt, u.LastSignInAt = fromMillis(created), zeroMillis(disabled), fromMillis(signedIn)
		users = append(users, &u)
	}
	return users, rows.Err()
}

// CountUsers returns how many users exist.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.queryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// findUser returns the user matching where, a condition on one column.
func (db *DB) findUser(ctx context.Context, where string, arg any) (*instancehub.User, error) {
	var u instancehub.User
	var created, signedIn sql.NullInt64
	var disabled int64
	err := db.queryRow(ctx,
		`SELECT id, email, name, password_hash, subject, created_at, disabled_at, last_sign_in_at FROM users WHERE `+where, arg).
		Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Subject, &created, &disabled, &signedIn)
	u.DisabledAt, u.LastSignInAt = zeroMillis(disabled), fromMillis(signedIn)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "User not found.")
	} else if err != nil {
		return nil, err
	}
	u.CreatedAt = fromMillis(created)
	return &u, nil
}

// SetUserDisabled disables the user (at, not zero) and, in one
// transaction, ends their sessions and links to set a password and revokes
// their tokens that work at at, returning how many; or it enables them
// again (at zero), bringing none of those back. ENOTFOUND for an unknown
// user.
func (db *DB) SetUserDisabled(ctx context.Context, id int64, at time.Time) (revoked int, err error) {
	var ms int64
	if !at.IsZero() {
		ms = millis(at)
	}
	err = db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = ? WHERE id = ?`, ms, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return instancehub.Errorf(instancehub.ENOTFOUND, "User not found.")
		}
		if ms == 0 {
			return nil
		}
		for _, end := range []string{`DELETE FROM sessions WHERE user_id = ?`, `DELETE FROM password_links WHERE user_id = ?`} {
			if _, err := tx.ExecContext(ctx, end, id); err != nil {
				return err
			}
		}
		res, err = tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0 AND expires_at > ?`, ms, id, ms)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		revoked = int(n)
		return err
	})
	return revoked, wrap(err, "disable user %d", id)
}

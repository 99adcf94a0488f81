package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/instancehub/instancehub"
)

// CreateSession inserts s, and records in the same transaction that its
// user signed in at its CreatedAt (their last sign-in, which the Users tab
// shows). Its CreatedAt and LastSeenAt default to now.
func (db *DB) CreateSession(ctx context.Context, s *instancehub.Session) error {
	s.CreatedAt = db.orNow(s.CreatedAt)
	s.LastSeenAt = db.orNow(s.LastSeenAt)
	err := db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`,
			s.TokenHash, s.UserID, millis(s.CreatedAt), millis(s.LastSeenAt), millis(s.ExpiresAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE users SET last_sign_in_at = ? WHERE id = ?`, millis(s.CreatedAt), s.UserID)
		return err
	})
	if err != nil {
		return fmt.Errorf("create session of user %d: %w", s.UserID, err)
	}
	return nil
}

// FindSession returns the session with that token hash, with its user and
// the user's roles, provided it expires after now. ENOTFOUND if there is none.
func (db *DB) FindSession(ctx context.Context, tokenHash string, now time.Time) (*instancehub.Session, error) {
	version, err := db.version(ctx)
	if err != nil {
		return db.findSession(ctx, tokenHash, now)
	}
	if kept, ok := db.sessions.get(version, tokenHash); ok {
		if !kept.ExpiresAt.After(now) {
			return nil, instancehub.Errorf(instancehub.ENOTFOUND, "Session not found.")
		}
		return copySession(kept), nil
	}
	s, err := db.findSession(ctx, tokenHash, now)
	if err == nil {
		db.sessions.put(version, tokenHash, copySession(s))
	}
	return s, err
}

func (db *DB) findSession(ctx context.Context, tokenHash string, now time.Time) (*instancehub.Session, error) {
	s := instancehub.Session{User: &instancehub.User{}}
	var created, lastSeen, expires, userCreated sql.NullInt64
	err := db.queryRow(ctx, `
		SELECT s.token_hash, s.user_id, s.created_at, s.last_seen_at, s.expires_at,
		       u.id, u.email, u.name, u.password_hash, u.subject, u.created_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled_at = 0`,
		tokenHash, millis(now)).
		Scan(&s.TokenHash, &s.UserID, &created, &lastSeen, &expires,
			&s.User.ID, &s.User.Email, &s.User.Name, &s.User.PasswordHash, &s.User.Subject, &userCreated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "Session not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMillis(created), fromMillis(lastSeen), fromMillis(expires)
	s.User.CreatedAt = fromMillis(userCreated)
	if s.User.Roles, err = db.UserRoles(ctx, s.UserID); err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	return &s, nil
}

// TouchSession records that the session was used at t. A session that no
// longer exists is not an error: the browser is simply signed out. No page
// shows a session's last-seen, so the write leaves the data version
// (execQuiet) and every page kept at it; the session's own kept read is
// forgotten.
func (db *DB) TouchSession(ctx context.Context, tokenHash string, t time.Time) error {
	_, err := db.execQuiet(ctx,
		`UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?`, millis(t), tokenHash)
	db.sessions.forget(func(hash string, _ *instancehub.Session) bool { return hash == tokenHash })
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession signs a browser out; signing out twice is no error.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := db.exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions signs a user out everywhere.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	if _, err := db.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions FindSession no longer returns
// (those expiring at or before now) and returns how many.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := db.exec(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, millis(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := rowsAffected(res)
	return int(n), wrap(err, "delete expired sessions")
}

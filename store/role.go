package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/instancehub/instancehub"
)

// AssignRole inserts a, setting its ID and, when zero, its AssignedAt.
// ECONFLICT when the user already holds the role; ENOTFOUND when the user
// does not exist.
func (db *DB) AssignRole(ctx context.Context, a *instancehub.RoleAssignment) error {
	a.AssignedAt = db.orNow(a.AssignedAt)
	if a.Source == "" {
		a.Source = instancehub.SourcePortal
	}
	err := db.queryRow(ctx, `
		INSERT INTO role_assignments (user_id, role, assigned_by_id, assigned_at, source)
		SELECT id, ?, ?, ?, ? FROM users WHERE id = ? RETURNING id`,
		string(a.Role), nullID(a.AssignedByID), millis(a.AssignedAt), a.Source, a.UserID).Scan(&a.ID)
	switch {
	case isUnique(err):
		return instancehub.Errorf(instancehub.ECONFLICT, "The user already has the %s role.", a.Role)
	case errors.Is(err, sql.ErrNoRows):
		return instancehub.Errorf(instancehub.ENOTFOUND, "User not found.")
	case err != nil:
		return fmt.Errorf("assign role %s to user %d: %w", a.Role, a.UserID, err)
	}
	return nil
}

// RemoveRoleAssignment deletes an assignment and returns it. The check that
// it is not the last Owner and the delete are one statement, so two Owners
// removing each other at once cannot leave the workspace without one.
func (db *DB) RemoveRoleAssignment(ctx context.Context, id int64) (*instancehub.RoleAssignment, error) {
	var removed *instancehub.RoleAssignment
	err := db.inTx(ctx, func(tx *Tx) error {
		a, err := findAssignment(ctx, tx, id)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `
			DELETE FROM role_assignments WHERE id = ?
			AND NOT (role = 'Owner' AND (SELECT count(*) FROM role_assignments WHERE role = 'Owner') <= 1)`, id)
		if err != nil {
			return err
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return instancehub.Errorf(instancehub.ECONFLICT, "%s is the last Owner; assign another Owner before removing this one.", a.UserName)
		}
		removed = a
		return nil
	})
	return removed, wrap(err, "remove role assignment %d", id)
}

const assignmentColumns = `
	SELECT a.id, a.user_id, u.name, u.email, a.role, COALESCE(a.assigned_by_id, 0), COALESCE(b.name, ''), a.assigned_at, a.source
	FROM role_assignments a
	JOIN users u ON u.id = a.user_id
	LEFT JOIN users b ON b.id = a.assigned_by_id`

func findAssignment(ctx context.Context, tx *Tx, id int64) (*instancehub.RoleAssignment, error) {
	a, err := scanAssignment(tx.QueryRowContext(ctx, assignmentColumns+` WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "That role assignment no longer exists.")
	}
	return a, err
}

// FindRoleAssignments lists assignments by user name, then role; only those
// of role when it is set.
func (db *DB) FindRoleAssignments(ctx context.Context, role instancehub.Role) ([]*instancehub.RoleAssignment, error) {
	rows, err := db.query(ctx, assignmentColumns+`
		WHERE ? = '' OR a.role = ?
		ORDER BY lower(u.name), u.id, a.role`, string(role), string(role))
	if err != nil {
		return nil, fmt.Errorf("find role assignments: %w", err)
	}
	defer rows.Close()
	var list []*instancehub.RoleAssignment
	for rows.Next() {
		a, err := scanAssignment(rows)
		if err != nil {
			return nil, fmt.Errorf("find role assignments: %w", err)
		}
		list = append(list, a)
	}
	return list, rows.Err()
}

// UserRoles lists the roles of a user, most powerful first.
func (db *DB) UserRoles(ctx context.Context, userID int64) ([]instancehub.Role, error) {
	rows, err := db.query(ctx, `SELECT role FROM role_assignments WHERE user_id = ?`, userID)
	if err != nil {
		return nil, fmt.Errorf("roles of user %d: %w", userID, err)
	}
	defer rows.Close()
	held := map[instancehub.Role]bool{}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, fmt.Errorf("roles of user %d: %w", userID, err)
		}
		held[instancehub.Role(r)] = true
	}
	var roles []instancehub.Role
	for _, r := range instancehub.Roles {
		if held[r] {
			roles = append(roles, r)
		}
	}
	return roles, rows.Err()
}

func scanAssignment(row scanner) (*instancehub.RoleAssignment, error) {
	var a instancehub.RoleAssignment
	var role string
	var at sql.NullInt64
	if err := row.Scan(&a.ID, &a.UserID, &a.UserName, &a.UserEmail, &role, &a.AssignedByID, &a.AssignedByName, &at, &a.Source); err != nil {
		return nil, err
	}
	a.Role, a.AssignedAt = instancehub.Role(role), fromMillis(at)
	return &a, nil
}

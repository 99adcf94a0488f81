package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/instancehub/instancehub"
)

// RecordAudit adds e, setting its ID and, when zero, its time. The table
// refuses updates and deletes (triggers), so events are only ever added.
func (db *DB) RecordAudit(ctx context.Context, e *instancehub.AuditEvent) error {
	e.At = db.orNow(e.At)
	res, err := db.db.ExecContext(ctx, `
		INSERT INTO audit_events (at, user_id, user_name, user_email, action, target, result, reason, source_ip)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		millis(e.At), nullID(e.UserID), e.UserName, e.UserEmail, e.Action, e.Target, e.Result, e.Reason, e.SourceIP)
	if err != nil {
		return fmt.Errorf("record audit event %s: %w", e.Action, err)
	}
	e.ID, err = res.LastInsertId()
	return err
}

// FindAuditEvents returns the matching events, newest first, and how many
// match in all.
func (db *DB) FindAuditEvents(ctx context.Context, f instancehub.AuditFilter) ([]*instancehub.AuditEvent, int, error) {
	where, args := auditWhere(f)
	var total int
	if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM audit_events WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count audit events: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	rows, err := db.db.QueryContext(ctx, `
		SELECT id, at, COALESCE(user_id, 0), user_name, user_email, action, target, result, reason, source_ip
		FROM audit_events WHERE `+where+` ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`,
		append(args, limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("find audit events: %w", err)
	}
	defer rows.Close()
	var events []*instancehub.AuditEvent
	for rows.Next() {
		var e instancehub.AuditEvent
		var at sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &e.UserID, &e.UserName, &e.UserEmail, &e.Action, &e.Target, &e.Result, &e.Reason, &e.SourceIP); err != nil {
			return nil, 0, fmt.Errorf("find audit events: %w", err)
		}
		e.At = fromMillis(at)
		events = append(events, &e)
	}
	return events, total, rows.Err()
}

func auditWhere(f instancehub.AuditFilter) (string, []any) {
	conds, args := []string{"1 = 1"}, []any{}
	add := func(cond string, arg ...any) { conds, args = append(conds, cond), append(args, arg...) }
	if f.User != "" {
		add(`(user_name LIKE ? ESCAPE '\' OR user_email LIKE ? ESCAPE '\')`, contains(f.User), contains(f.User))
	}
	if f.Action != "" {
		add(`action LIKE ? ESCAPE '\'`, escapeLike(f.Action)+"%")
	}
	if f.Target != "" {
		add(`target LIKE ? ESCAPE '\'`, contains(f.Target))
	}
	if f.Result != "" {
		add(`result = ?`, f.Result)
	}
	if !f.From.IsZero() {
		add(`at >= ?`, millis(f.From))
	}
	if !f.To.IsZero() {
		add(`at < ?`, millis(f.To))
	}
	return strings.Join(conds, " AND "), args
}

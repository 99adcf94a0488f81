package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
)

// RecordAudit adds e, setting its ID and, when zero, its time. The table
// refuses updates and deletes (triggers), so events are only ever added.
func (db *DB) RecordAudit(ctx context.Context, e *instancehub.AuditEvent) error {
	return db.addAudit(ctx, e, sql.NullInt64{})
}

// TallyAudit adds e to the events of its minute: the first of a minute,
// action, result, user and source is inserted, the next ones only raise its
// count, which the triggers allow and nothing else.
func (db *DB) TallyAudit(ctx context.Context, e *instancehub.AuditEvent) error {
	e.At = db.orNow(e.At)
	return db.addAudit(ctx, e, sql.NullInt64{Int64: millis(e.At.Truncate(time.Minute)), Valid: true})
}

// addAudit inserts e, or counts it in the event of the same tally minute.
func (db *DB) addAudit(ctx context.Context, e *instancehub.AuditEvent, minute sql.NullInt64) error {
	e.At = db.orNow(e.At)
	err := db.queryRow(ctx, `
		INSERT INTO audit_events (at, user_id, user_name, user_email, action, target, result, reason, source_ip, tally_minute)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tally_minute, action, result, user_email, source_ip) WHERE tally_minute IS NOT NULL
		DO UPDATE SET count = audit_events.count + 1
		RETURNING id, count`,
		millis(e.At), nullID(e.UserID), e.UserName, e.UserEmail, e.Action, e.Target, e.Result, e.Reason, e.SourceIP, minute).
		Scan(&e.ID, &e.Count)
	if err != nil {
		return fmt.Errorf("record audit event %s: %w", e.Action, err)
	}
	return nil
}

// FindAuditEvents returns the matching events, newest first, and how many
// match in all.
func (db *DB) FindAuditEvents(ctx context.Context, f instancehub.AuditFilter) ([]*instancehub.AuditEvent, int, error) {
	where, args := db.auditWhere(f)
	var total int
	if err := db.queryRow(ctx, `SELECT count(*) FROM audit_events WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count audit events: %w", err)
	}
	var events []*instancehub.AuditEvent
	err := db.walkAudit(ctx, f, f.Offset, f.Limit, func(e *instancehub.AuditEvent) error {
		events = append(events, e)
		return nil
	})
	return events, total, err
}

// WalkAuditEvents calls fn with each matching event, newest first, holding
// one in memory at a time, so that an export of the whole log takes no more
// memory than a page of it.
func (db *DB) WalkAuditEvents(ctx context.Context, f instancehub.AuditFilter, fn func(*instancehub.AuditEvent) error) error {
	return db.walkAudit(ctx, f, 0, 0, fn)
}

// walkAudit calls fn with a page of the matching events (limit 0 for all).
func (db *DB) walkAudit(ctx context.Context, f instancehub.AuditFilter, offset, limit int, fn func(*instancehub.AuditEvent) error) error {
	where, args := db.auditWhere(f)
	if limit <= 0 {
		limit = noLimit
	}
	rows, err := db.query(ctx, `
		SELECT id, at, COALESCE(user_id, 0), user_name, user_email, action, target, result, reason, source_ip, count
		FROM audit_events WHERE `+where+` ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return fmt.Errorf("find audit events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e instancehub.AuditEvent
		var at sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &e.UserID, &e.UserName, &e.UserEmail, &e.Action, &e.Target, &e.Result, &e.Reason, &e.SourceIP, &e.Count); err != nil {
			return fmt.Errorf("find audit events: %w", err)
		}
		e.At = fromMillis(at)
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (db *DB) auditWhere(f instancehub.AuditFilter) (string, []any) {
	like := db.d.like
	conds, args := []string{"1 = 1"}, []any{}
	add := func(cond string, arg ...any) { conds, args = append(conds, cond), append(args, arg...) }
	if f.User != "" {
		add(`(user_name `+like+` ? ESCAPE '\' OR user_email `+like+` ? ESCAPE '\')`, contains(f.User), contains(f.User))
	}
	switch f.Action {
	case "":
	case instancehub.AuditRefusals:
		add(`(action LIKE 'request.%' OR result = ?)`, instancehub.AuditDenied)
	default:
		add(`action `+like+` ? ESCAPE '\'`, escapeLike(f.Action)+"%")
	}
	if f.Target != "" {
		add(`target `+like+` ? ESCAPE '\'`, contains(f.Target))
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

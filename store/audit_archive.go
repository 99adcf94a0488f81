package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"time"

	"github.com/instancehub/instancehub"
)

// AuditArchivable says how many events the log holds before before, the
// oldest and newest, and the highest ID.
func (db *DB) AuditArchivable(ctx context.Context, before time.Time) (instancehub.AuditSpan, error) {
	var span instancehub.AuditSpan
	var first, last, lastID sql.NullInt64
	err := db.queryRow(ctx, `SELECT count(*), min(at), max(at), max(id) FROM audit_events WHERE at < ?`, millis(before)).
		Scan(&span.Count, &first, &last, &lastID)
	if err != nil {
		return span, fmt.Errorf("count the events before %s: %w", before.Format(time.DateOnly), err)
	}
	span.First, span.Last, span.LastID = fromMillis(first), fromMillis(last), lastID.Int64
	return span, nil
}

// NthOldestAudit returns the time of the event with n older ones; the
// zero time when the log holds no more than n.
func (db *DB) NthOldestAudit(ctx context.Context, n int) (time.Time, error) {
	var at int64
	err := db.queryRow(ctx, `SELECT at FROM audit_events ORDER BY at, id LIMIT 1 OFFSET ?`, n).Scan(&at)
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, fmt.Errorf("find the %dth oldest audit event: %w", n+1, err)
	}
	return time.UnixMilli(at).UTC(), nil
}

// archivable selects the events an archive covers, oldest first.
const archivable = `
	SELECT id, at, COALESCE(user_id, 0), user_name, user_email, action, target, result, reason, source_ip, count
	FROM audit_events WHERE at < ? AND id <= ? ORDER BY at, id`

// WalkAuditArchivable calls fn with each event before before whose ID is
// at most lastID, oldest first, holding one in memory at a time.
func (db *DB) WalkAuditArchivable(ctx context.Context, before time.Time, lastID int64, fn func(*instancehub.AuditEvent) error) error {
	rows, err := db.query(ctx, archivable, millis(before), lastID)
	if err != nil {
		return fmt.Errorf("read the events to archive: %w", err)
	}
	return scanArchivable(rows, fn)
}

func scanArchivable(rows *sql.Rows, fn func(*instancehub.AuditEvent) error) error {
	defer rows.Close()
	for rows.Next() {
		var e instancehub.AuditEvent
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.UserID, &e.UserName, &e.UserEmail, &e.Action, &e.Target, &e.Result, &e.Reason, &e.SourceIP, &e.Count); err != nil {
			return fmt.Errorf("read the events to archive: %w", err)
		}
		e.At = time.UnixMilli(at).UTC()
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ArchiveAudit removes the events a covers, provided that, read again in
// the transaction that removes them, they are a.Count events whose archive
// has a.Digest; it records a first, which is what lets the triggers allow
// their removal, and e, the archive's audit event, last.
func (db *DB) ArchiveAudit(ctx context.Context, a *instancehub.AuditArchive, e *instancehub.AuditEvent) error {
	a.At, e.At = db.orNow(a.At), db.orNow(e.At)
	err := db.inTx(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, archivable, millis(a.Before), a.LastID)
		if err != nil {
			return err
		}
		w := instancehub.NewAuditArchiveWriter(io.Discard)
		if err := scanArchivable(rows, w.Write); err != nil {
			return err
		}
		if w.Count() != a.Count || w.Digest() != a.Digest {
			return instancehub.Errorf(instancehub.ECONFLICT,
				"The log's events before %s changed while they were archived (%d events now, %d in the file): nothing was removed. Try again.",
				a.Before.Format(time.DateOnly), w.Count(), a.Count)
		}
		err = tx.QueryRowContext(ctx, `
			INSERT INTO audit_archives (at, user_id, user_name, user_email, cutoff, first_at, last_at, last_id, count, file, digest)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			millis(a.At), nullID(a.UserID), a.UserName, a.UserEmail, millis(a.Before), millis(a.First), millis(a.Last),
			a.LastID, a.Count, a.File, a.Digest).Scan(&a.ID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM audit_events WHERE at < ? AND id <= ?`, millis(a.Before), a.LastID)
		if err != nil {
			return err
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n != int64(a.Count) {
			return fmt.Errorf("removed %d events, archived %d", n, a.Count)
		}
		return tx.QueryRowContext(ctx, `
			INSERT INTO audit_events (at, user_id, user_name, user_email, action, target, result, reason, source_ip)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, count`,
			millis(e.At), nullID(e.UserID), e.UserName, e.UserEmail, e.Action, e.Target, e.Result, e.Reason, e.SourceIP).
			Scan(&e.ID, &e.Count)
	})
	return wrap(err, "archive the audit log")
}

// AuditArchives lists the archives, newest first.
func (db *DB) AuditArchives(ctx context.Context) ([]*instancehub.AuditArchive, error) {
	rows, err := db.query(ctx, auditArchiveSelect+` ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list the audit archives: %w", err)
	}
	defer rows.Close()
	var archives []*instancehub.AuditArchive
	for rows.Next() {
		a, err := scanAuditArchive(rows)
		if err != nil {
			return nil, fmt.Errorf("list the audit archives: %w", err)
		}
		archives = append(archives, a)
	}
	return archives, rows.Err()
}

// FindAuditArchive returns one archive. ENOTFOUND when there is none.
func (db *DB) FindAuditArchive(ctx context.Context, id int64) (*instancehub.AuditArchive, error) {
	a, err := scanAuditArchive(db.queryRow(ctx, auditArchiveSelect+` WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "There is no archive %d of the audit log.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find audit archive %d: %w", id, err)
	}
	return a, nil
}

const auditArchiveSelect = `
	SELECT id, at, COALESCE(user_id, 0), user_name, user_email, cutoff, first_at, last_at, last_id, count, file, digest
	FROM audit_archives`

func scanAuditArchive(row interface{ Scan(...any) error }) (*instancehub.AuditArchive, error) {
	var a instancehub.AuditArchive
	var at, cutoff, first, last int64
	err := row.Scan(&a.ID, &at, &a.UserID, &a.UserName, &a.UserEmail, &cutoff, &first, &last, &a.LastID, &a.Count, &a.File, &a.Digest)
	if err != nil {
		return nil, err
	}
	a.At, a.Before, a.First, a.Last = time.UnixMilli(at).UTC(), time.UnixMilli(cutoff).UTC(), time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
	return &a, nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/instancehub/instancehub"
)

const quotaRequestSelect = `SELECT r.id, r.user_id, COALESCE(u.name, ''), r.region, r.family, r.vcpus, r.reason, r.at,
	r.status, COALESCE(r.decided_by_id, 0), COALESCE(d.name, ''), r.decided_at, r.answer
	FROM quota_requests r LEFT JOIN users u ON u.id = r.user_id LEFT JOIN users d ON d.id = r.decided_by_id`

func scanQuotaRequest(row scanner) (*instancehub.QuotaRequest, error) {
	r := &instancehub.QuotaRequest{}
	var at int64
	var decidedAt sql.NullInt64
	err := row.Scan(&r.ID, &r.UserID, &r.UserName, &r.Region, &r.Family, &r.VCPUs, &r.Reason, &at,
		&r.Status, &r.DecidedByID, &r.DecidedByName, &decidedAt, &r.Answer)
	if err != nil {
		return nil, err
	}
	r.At, r.DecidedAt = zeroMillis(at), fromMillis(decidedAt)
	return r, nil
}

// AddQuotaRequest records an open request, setting its ID and time.
func (db *DB) AddQuotaRequest(ctx context.Context, r *instancehub.QuotaRequest) error {
	r.At, r.Status = db.orNow(r.At), instancehub.QuotaRequestOpen
	err := db.inTx(ctx, func(tx *Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO quota_requests (user_id, region, family, vcpus, reason, at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, r.UserID, r.Region, r.Family, r.VCPUs, r.Reason, millis(r.At)).Scan(&r.ID)
	})
	if isUnique(err) {
		return instancehub.Errorf(instancehub.ECONFLICT,
			"You asked for more of %s in %s already; the Owners have not answered yet.", instancehub.FamilyName(r.Family), r.Region)
	}
	return wrap(err, "add quota request of user %d", r.UserID)
}

// QuotaRequest returns a request; ENOTFOUND when none has id.
func (db *DB) QuotaRequest(ctx context.Context, id int64) (*instancehub.QuotaRequest, error) {
	r, err := scanQuotaRequest(db.queryRow(ctx, quotaRequestSelect+` WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "There is no quota request %d.", id)
	}
	return r, wrap(err, "quota request %d", id)
}

// OpenQuotaRequests lists the open requests, oldest first.
func (db *DB) OpenQuotaRequests(ctx context.Context) ([]*instancehub.QuotaRequest, error) {
	return db.quotaRequests(ctx, quotaRequestSelect+` WHERE r.status = 'open' ORDER BY r.at, r.id`)
}

func (db *DB) quotaRequests(ctx context.Context, query string, args ...any) ([]*instancehub.QuotaRequest, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("quota requests: %w", err)
	}
	defer rows.Close()
	var list []*instancehub.QuotaRequest
	for rows.Next() {
		r, err := scanQuotaRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("quota requests: %w", err)
		}
		list = append(list, r)
	}
	return list, rows.Err()
}

// GrantQuotaRequest marks an open request granted and sets its family's
// limit, in one transaction, provided the limit still is was.
func (db *DB) GrantQuotaRequest(ctx context.Context, r *instancehub.QuotaRequest, was, limit int) error {
	r.DecidedAt = db.orNow(r.DecidedAt)
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := decide(ctx, tx, r, instancehub.QuotaRequestGranted); err != nil {
			return err
		}
		now := -1
		err := tx.QueryRowContext(ctx, `SELECT vcpu_limit FROM workspace_quotas WHERE region = ? AND family = ?`, r.Region, r.Family).Scan(&now)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if now != was {
			return instancehub.Errorf(instancehub.ECONFLICT,
				"The workspace's limit for %s in %s changed while you decided: look at it again, then grant.", instancehub.FamilyName(r.Family), r.Region)
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO workspace_quotas (region, family, vcpu_limit, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (region, family) DO UPDATE SET vcpu_limit = excluded.vcpu_limit, updated_at = excluded.updated_at`,
			r.Region, r.Family, limit, millis(r.DecidedAt))
		return err
	})
	return wrap(err, "grant quota request %d", r.ID)
}

// DeclineQuotaRequest marks an open request declined.
func (db *DB) DeclineQuotaRequest(ctx context.Context, r *instancehub.QuotaRequest) error {
	r.DecidedAt = db.orNow(r.DecidedAt)
	err := db.inTx(ctx, func(tx *Tx) error { return decide(ctx, tx, r, instancehub.QuotaRequestDeclined) })
	return wrap(err, "decline quota request %d", r.ID)
}

// decide moves an open request to status; ECONFLICT, saying who decided it,
// when another decision came first.
func decide(ctx context.Context, tx *Tx, r *instancehub.QuotaRequest, status instancehub.QuotaRequestStatus) error {
	res, err := tx.ExecContext(ctx, `UPDATE quota_requests SET status = ?, decided_by_id = ?, decided_at = ?, answer = ?
		WHERE id = ? AND status = 'open'`, status, nullID(r.DecidedByID), millis(r.DecidedAt), r.Answer, r.ID)
	if err != nil {
		return err
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 1 {
		r.Status = status
		return nil
	}
	was, err := scanQuotaRequest(tx.QueryRowContext(ctx, quotaRequestSelect+` WHERE r.id = ?`, r.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return instancehub.Errorf(instancehub.ENOTFOUND, "There is no quota request %d.", r.ID)
	} else if err != nil {
		return err
	}
	return was.DecidedAlready()
}

// TakeQuotaAnswers returns a user's decided requests not yet told, oldest
// first, and marks them told. A visit with none waiting only reads.
func (db *DB) TakeQuotaAnswers(ctx context.Context, userID int64) ([]*instancehub.QuotaRequest, error) {
	k := untoldKey{what: "quota answers", userID: userID}
	version, verr := db.version(ctx)
	if _, none := db.untold.get(version, k); verr == nil && none {
		return nil, nil
	}
	const untold = ` WHERE r.user_id = ? AND r.status <> 'open' AND r.told_at IS NULL ORDER BY r.decided_at, r.id`
	list, err := db.quotaRequests(ctx, quotaRequestSelect+untold, userID)
	if err != nil || len(list) == 0 {
		if err == nil && verr == nil {
			db.untold.put(version, k, true)
		}
		return nil, wrap(err, "quota answers of user %d", userID)
	}
	var told []*instancehub.QuotaRequest
	err = db.inTx(ctx, func(tx *Tx) error {
		told = told[:0]
		for _, r := range list {
			res, err := tx.ExecContext(ctx, `UPDATE quota_requests SET told_at = ? WHERE id = ? AND told_at IS NULL`, millis(db.now()), r.ID)
			if err != nil {
				return err
			}
			if n, err := rowsAffected(res); err != nil {
				return err
			} else if n == 1 { // another visit may have told it meanwhile
				told = append(told, r)
			}
		}
		return nil
	})
	return told, wrap(err, "tell quota answers to user %d", userID)
}

var _ instancehub.QuotaRequestStore = (*DB)(nil)

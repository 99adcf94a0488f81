package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/instancehub/instancehub"
)

// operationColumns are the columns operationRow reads, from operations o,
// their instance i and their user ou.
const operationColumns = `o.id, o.instance_id, i.name, o.kind, o.status, o.triggered_by, o.rule,
       o.user_id, ou.name, o.step, o.resume_token, o.error_code, o.error_message,
       o.started_at, o.finished_at, o.request_id`

const operationSelect = `
SELECT ` + operationColumns + `
FROM operations o
JOIN instances i ON i.id = o.instance_id
LEFT JOIN users ou ON ou.id = o.user_id`

// BeginOperation records op as InProgress and moves its instance to
// op.Kind.Progressive(), in one transaction, provided the instance is in one
// of op.Kind.From() and has no operation in progress. ECONFLICT otherwise;
// ENOTFOUND when the instance does not exist or is deleted; EQUOTA when a
// Start would exceed a workspace limit. When op carries an AppSecret, it
// becomes the instance's in the same transaction.
func (db *DB) BeginOperation(ctx context.Context, op *instancehub.Operation) error {
	op.Status = instancehub.StatusInProgress
	op.StartedAt = db.orNow(op.StartedAt)
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := db.claimInstance(ctx, tx, op); err != nil {
			return err
		}
		if op.AppSecret != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE instances SET app_secret = ? WHERE id = ?`, op.AppSecret, op.InstanceID); err != nil {
				return err
			}
		}
		if op.Kind == instancehub.OpStart {
			if err := checkWorkspaceQuota(ctx, tx, op.InstanceID); err != nil {
				return err
			}
		}
		return db.insertOperation(ctx, tx, op)
	})
	return wrap(err, "begin %s of instance %d", op.Kind.Verb(), op.InstanceID)
}

// claimInstance moves op's instance to op's progressive state. The check and
// the move are one statement, so of two requests racing for the same
// instance only one can pass.
func (db *DB) claimInstance(ctx context.Context, tx *Tx, op *instancehub.Operation) error {
	from := op.Kind.From()
	args := []any{op.Kind.Progressive(), millis(db.now()), op.InstanceID}
	for _, s := range from {
		args = append(args, s)
	}
	err := tx.QueryRowContext(ctx, `
		UPDATE instances SET state = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND state IN (`+placeholders(len(from))+`)
		  AND NOT EXISTS (SELECT 1 FROM operations o
		                  WHERE o.instance_id = instances.id AND o.status = 'InProgress')
		RETURNING name`, args...).Scan(&op.InstanceName)
	if errors.Is(err, sql.ErrNoRows) {
		return whyNotClaimed(ctx, tx, op)
	}
	return err
}

// whyNotClaimed explains why op could not begin. The transaction already
// holds the write lock, so the instance cannot change in between.
func whyNotClaimed(ctx context.Context, tx *Tx, op *instancehub.Operation) error {
	var state instancehub.State
	err := tx.QueryRowContext(ctx, `SELECT state FROM instances WHERE id = ?`, op.InstanceID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) || state == instancehub.StateDeleted {
		return instancehub.Errorf(instancehub.ENOTFOUND, "Instance not found.")
	} else if err != nil {
		return err
	}
	if err := op.Kind.Check(state); err != nil {
		return err
	}
	return errInProgress
}

var errInProgress = instancehub.Errorf(instancehub.ECONFLICT,
	"Another operation is under way on the instance; wait until it finishes.")

// placeholders returns n comma-separated "?", or NULL for none: "IN ()"
// is SQLite's, an error on PostgreSQL, and "IN (NULL)" matches nothing
// on both.
func placeholders(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// insertOperation records op, its lease (when it names an owner) ending
// op.LeaseFor from now by the database's clock (leaseClock); without an
// owner, lapsed, for whichever portal claims it.
func (db *DB) insertOperation(ctx context.Context, tx *Tx, op *instancehub.Operation) error {
	clock, args := db.leaseClock()
	lease := int64(math.MinInt32) // lapsed on any clock
	if op.LeaseOwner != "" {
		lease = op.LeaseFor.Milliseconds()
	}
	err := tx.QueryRowContext(ctx, clock+`
		INSERT INTO operations (instance_id, kind, status, triggered_by, rule, user_id, step,
			resume_token, error_code, error_message, started_at, finished_at, lease_owner, lease_until, request_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT now FROM clock) + ?, ?) RETURNING id`,
		append(args, op.InstanceID, op.Kind, op.Status, op.Trigger, op.Rule, nullID(op.UserID), op.Step,
			op.ResumeToken, op.ErrorCode, op.ErrorMessage, millis(op.StartedAt), nullMillis(op.FinishedAt),
			op.LeaseOwner, lease, op.RequestID)...).Scan(&op.ID)
	if isUnique(err) { // operations_in_progress: the schema's own guard
		return errInProgress
	}
	return err
}

// SaveOperationProgress stores op's current step and resume token.
// ENOTFOUND if the operation does not exist; ECONFLICT if op names a lease
// owner and another portal has taken the operation over.
func (db *DB) SaveOperationProgress(ctx context.Context, op *instancehub.Operation) error {
	err := db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE operations SET step = ?, resume_token = ? WHERE id = ? AND `+leaseCondition,
			op.Step, op.ResumeToken, op.ID, op.LeaseOwner, op.LeaseOwner)
		if err != nil {
			return err
		}
		if n, err := rowsAffected(res); err != nil || n > 0 {
			return err
		}
		return whyNotWritten(ctx, tx, op.ID)
	})
	return wrap(err, "save progress of operation %d", op.ID)
}

// whyNotWritten explains a write to an operation that matched no row.
func whyNotWritten(ctx context.Context, tx *Tx, id int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM operations WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	} else if n == 0 {
		return errOperationNotFound
	}
	return errLeaseLost
}

var errOperationNotFound = instancehub.Errorf(instancehub.ENOTFOUND, "Operation not found.")

// FinishOperation records op's status, error and end time (now, unless set)
// and applies update to its instance, in one transaction. It also stores
// op's last step and resume token, so that a caller may clear a token that
// is of no more use. op must be in
// progress: ECONFLICT if it has finished already, ENOTFOUND if it does not
// exist. An update to state Deleted keeps the row but takes it out of every
// list and frees its name.
func (db *DB) FinishOperation(ctx context.Context, op *instancehub.Operation, update instancehub.InstanceUpdate) error {
	if op.Status != instancehub.StatusSucceeded && op.Status != instancehub.StatusFailed {
		return fmt.Errorf("finish operation %d: status %q does not end an operation", op.ID, op.Status)
	}
	op.FinishedAt = db.orNow(op.FinishedAt)
	err := db.inTx(ctx, func(tx *Tx) error {
		instanceID, err := endOperation(ctx, tx, op)
		if err != nil {
			return err
		}
		return db.updateInstance(ctx, tx, instanceID, update)
	})
	return wrap(err, "finish operation %d", op.ID)
}

// endOperation records the end of op and returns its instance's ID.
func endOperation(ctx context.Context, tx *Tx, op *instancehub.Operation) (int64, error) {
	var instanceID int64
	err := tx.QueryRowContext(ctx, `
		UPDATE operations SET status = ?, error_code = ?, error_message = ?, finished_at = ?,
			step = ?, resume_token = ?
		WHERE id = ? AND status = 'InProgress' AND `+leaseCondition+`
		RETURNING instance_id`,
		op.Status, op.ErrorCode, op.ErrorMessage, millis(op.FinishedAt),
		op.Step, op.ResumeToken, op.ID, op.LeaseOwner, op.LeaseOwner).Scan(&instanceID)
	if !errors.Is(err, sql.ErrNoRows) {
		return instanceID, err
	}
	var status string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM operations WHERE id = ?`, op.ID).Scan(&status); errors.Is(err, sql.ErrNoRows) {
		return 0, errOperationNotFound
	} else if err != nil {
		return 0, err
	}
	if status == string(instancehub.StatusInProgress) {
		return 0, errLeaseLost
	}
	return 0, instancehub.Errorf(instancehub.ECONFLICT, "The operation has already finished.")
}

// PendingOperations lists the operations in progress, oldest first. The
// engine no longer reads them all (it claims those whose lease lapsed,
// ClaimLapsedOperations); the store's tests do, to see what is in flight.
func (db *DB) PendingOperations(ctx context.Context) ([]*instancehub.Operation, error) {
	// The unary + keeps SQLite from walking the whole history in id order:
	// it reads the few rows of the operations_in_progress index, then sorts.
	ops, err := db.findOperations(ctx, `WHERE o.status = 'InProgress' ORDER BY +o.id`)
	return ops, wrap(err, "pending operations")
}

// FindOperations lists an instance's operations, newest first; limit 0 lists
// them all.
func (db *DB) FindOperations(ctx context.Context, instanceID int64, limit int) ([]*instancehub.Operation, error) {
	if limit <= 0 {
		limit = noLimit
	}
	return db.operations.read(ctx, db, operationsKey{instanceID, limit}, copyOperations, func() ([]*instancehub.Operation, error) {
		ops, err := db.findOperations(ctx, `WHERE o.instance_id = ? ORDER BY o.id DESC LIMIT ?`, instanceID, limit)
		if err != nil {
			return nil, wrap(err, "find operations of instance %d", instanceID)
		}
		return ops, nil
	})
}

// operationsKey names an answer of FindOperations.
type operationsKey struct {
	instanceID int64
	limit      int
}

// copyOperations returns copies a caller may change (an operation holds
// values only).
func copyOperations(kept []*instancehub.Operation) []*instancehub.Operation {
	if kept == nil {
		return nil
	}
	out := make([]*instancehub.Operation, len(kept))
	for i, op := range kept {
		c := *op
		out[i] = &c
	}
	return out
}

// FindOperation returns an operation, of a deleted instance too. ENOTFOUND
// if there is none.
func (db *DB) FindOperation(ctx context.Context, id int64) (*instancehub.Operation, error) {
	ops, err := db.findOperations(ctx, `WHERE o.id = ?`, id)
	if err != nil {
		return nil, wrap(err, "find operation %d", id)
	}
	if len(ops) == 0 {
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "There is no operation %d.", id)
	}
	return ops[0], nil
}

func (db *DB) findOperations(ctx context.Context, tail string, args ...any) ([]*instancehub.Operation, error) {
	rows, err := db.query(ctx, operationSelect+" "+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ops []*instancehub.Operation
	for rows.Next() {
		var r operationRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		ops = append(ops, r.operation())
	}
	return ops, rows.Err()
}

// operationRow receives operationColumns. They are all NULL for an instance
// without operations, hence the nullable types.
type operationRow struct {
	id, instanceID, userID, startedAt, finishedAt             sql.NullInt64
	instanceName, kind, status, trigger, rule, userName, step sql.NullString
	resumeToken, errorCode, errorMessage, requestID           sql.NullString
}

func (r *operationRow) dest() []any {
	return []any{&r.id, &r.instanceID, &r.instanceName, &r.kind, &r.status, &r.trigger, &r.rule,
		&r.userID, &r.userName, &r.step, &r.resumeToken, &r.errorCode, &r.errorMessage,
		&r.startedAt, &r.finishedAt, &r.requestID}
}

// operation returns the operation read, or nil if there was none.
func (r *operationRow) operation() *instancehub.Operation {
	if !r.id.Valid {
		return nil
	}
	return &instancehub.Operation{
		ID:           r.id.Int64,
		InstanceID:   r.instanceID.Int64,
		InstanceName: r.instanceName.String,
		Kind:         instancehub.OperationKind(r.kind.String),
		Status:       instancehub.OperationStatus(r.status.String),
		Trigger:      instancehub.Trigger(r.trigger.String),
		Rule:         r.rule.String,
		UserID:       r.userID.Int64,
		UserName:     r.userName.String,
		Step:         r.step.String,
		ResumeToken:  r.resumeToken.String,
		ErrorCode:    r.errorCode.String,
		ErrorMessage: r.errorMessage.String,
		StartedAt:    fromMillis(r.startedAt),
		FinishedAt:   fromMillis(r.finishedAt),
		RequestID:    r.requestID.String,
	}
}
